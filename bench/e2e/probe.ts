/**
 * Send → delivered timing inside the sender's page, so the numbers do not include the
 * benchmark's own round-trips to the browser: a capture-phase keydown listener notes
 * when Enter is pressed in the composer, and a MutationObserver notes when that
 * message's row first appears, first shows `sent` and first shows `delivered` (or
 * `read`), all on the clock the app's timing marks use too (`performance.timeOrigin +
 * performance.now()`, ms; see bench/e2e/stages.ts).
 */
import type { Page } from '@playwright/test';

export interface SendTiming {
  readonly text: string;
  /** Enter pressed in the composer (ms, page clock). */
  readonly enter: number;
  /** The row first in the DOM (queued: encrypted and committed to the outbox). */
  readonly shown: number;
  /** First seen `sent` (the relay stored it, or the direct channel took it). */
  readonly sent: number;
  /** First seen `delivered` or `read`: the recipient's delivery receipt has come back. */
  readonly delivered: number;
  /** The path the row says carried it (`relay` or `direct`). */
  readonly via: string;
}

interface Pending {
  text: string;
  enter: number;
  shown?: number;
  sent?: number;
}
interface ProbeState {
  pending?: Pending;
  done: Record<string, SendTiming | { failed: string }>;
}

const PROBE = '__petrelE2eBench';

/** Runs in the page before the app (an init script): must be self-contained. */
function installProbe(global: string): void {
  const probe: ProbeState = { done: {} };
  (window as unknown as Record<string, ProbeState>)[global] = probe;
  addEventListener(
    'keydown',
    (e) => {
      if (e.key !== 'Enter' || e.shiftKey || !(e.target instanceof HTMLTextAreaElement)) return;
      probe.pending = { text: e.target.value.trim(), enter: performance.timeOrigin + performance.now() };
    },
    true,
  );
  // Inline callbacks only: a named local function would be wrapped in the transpiler's
  // `__name` helper, which does not exist in the page.
  new MutationObserver(() => {
    const p = probe.pending;
    if (!p) return;
    const now = performance.timeOrigin + performance.now();
    for (const row of document.querySelectorAll('[role="listitem"].message-out')) {
      if (row.querySelector('.message-text')?.textContent !== p.text) continue;
      const status = row.getAttribute('data-status');
      p.shown ??= now;
      if (status === 'failed') {
        probe.done[p.text] = { failed: row.querySelector('.message-failure')?.textContent ?? 'failed' };
        probe.pending = undefined;
      } else if (status === 'sent' || status === 'delivered' || status === 'read') {
        p.sent ??= now;
        if (status !== 'sent') {
          const title = row.querySelector('.message-status')?.getAttribute('title') ?? '';
          probe.done[p.text] = { text: p.text, enter: p.enter, shown: p.shown, sent: p.sent, delivered: now, via: title.split(' · ')[1] ?? 'unknown' };
          probe.pending = undefined;
        }
      }
      return;
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
}

/** Installs the probe on every document of the page's context (call before navigating). */
export async function addProbe(page: Page): Promise<void> {
  await page.context().addInitScript(installProbe, PROBE);
}

/** Types `text`, presses Enter and resolves with its timing once the sender sees it delivered. */
export async function timedSend(page: Page, text: string, timeoutMs: number): Promise<SendTiming> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  const handle = await page.waitForFunction(
    ([global, t]) => {
      const probe = (window as unknown as Record<string, ProbeState>)[global!]!;
      const r = probe.done[t!];
      if (r) delete probe.done[t!];
      return r ?? false;
    },
    [PROBE, text] as const,
    { timeout: timeoutMs },
  );
  const r = (await handle.jsonValue()) as SendTiming | { failed: string };
  if ('failed' in r) throw new Error(`"${text}" failed: ${r.failed}`);
  return r;
}
