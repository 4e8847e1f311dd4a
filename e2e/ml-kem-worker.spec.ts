/**
 * ML-KEM-768 runs in liboqs's WebAssembly inside the core's Worker, under the app's
 * Content-Security-Policy ('wasm-unsafe-eval', src/relay/http/security-headers.ts): the
 * first message between two people is a PQXDH setup (Alice encapsulates, Bob
 * decapsulates), and afterwards each Worker reports liboqs, not the noble fallback it would
 * use if compiling WebAssembly were refused (src/core/crypto/ml-kem.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { body, pair, send } from './chaos/support/app.ts';
import { messageLog } from './support/journey.ts';

function mlKem(page: Page): Promise<string | undefined> {
  return page.evaluate(async () => {
    const h = (window as unknown as { __petrelTest: { diagnostics(): Promise<{ mlKem?: string }> } }).__petrelTest;
    return (await h.diagnostics()).mlKem;
  });
}

test('a session set up in Chromium uses liboqs ML-KEM-768 in both Workers', async ({ browser, baseURL }) => {
  const [alice, bob] = await pair(browser, baseURL!, ['Alice', 'Bob'], { testHooks: true });
  try {
    await send(alice.page, body('kem', 'alice', 0));
    await expect(messageLog(bob.page)).toContainText(body('kem', 'alice', 0));
    await send(bob.page, body('kem', 'bob', 0));
    await expect(messageLog(alice.page)).toContainText(body('kem', 'bob', 0));
    expect(await mlKem(alice.page)).toBe('liboqs');
    expect(await mlKem(bob.page)).toBe('liboqs');
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
