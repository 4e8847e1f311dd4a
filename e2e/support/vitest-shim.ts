/**
 * Just enough of Vitest's API (`describe`, `it`, `expect`) for the store contract suite
 * (tests/store/store-contract.ts) to run unchanged inside a Chromium page: esbuild
 * aliases `vitest` to this file when bundling. `expect` is Vitest's own assertion
 * library (@vitest/expect, chai with the Jest matchers), set up the way Vitest does.
 */
import { ASYMMETRIC_MATCHERS_OBJECT, chai, getState, GLOBAL_EXPECT, JestAsymmetricMatchers, JestChaiExpect, JestExtend, setState } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type ExpectFn = ((value: unknown, message?: string) => Chai.Assertion) & Record<string, unknown>;

const expectImpl = ((value: unknown, message?: string) => {
  const { assertionCalls } = getState(expectImpl as never) as { assertionCalls: number };
  setState({ assertionCalls: assertionCalls + 1 }, expectImpl as never);
  return chai.expect(value, message);
}) as ExpectFn;
Object.assign(expectImpl, chai.expect);
Object.assign(expectImpl, (globalThis as Record<symbol, unknown>)[ASYMMETRIC_MATCHERS_OBJECT] as object);
setState({ assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null, expand: false }, expectImpl as never);
(globalThis as Record<symbol, unknown>)[GLOBAL_EXPECT] = expectImpl;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the contract suite types `expect` through vitest's own declarations
export const expect: any = expectImpl;

export interface CollectedTest {
  readonly name: string;
  readonly fn: () => unknown;
}

const collected: CollectedTest[] = [];
const prefix: string[] = [];

export function describe(name: string, body: () => void): void {
  prefix.push(name);
  try {
    body();
  } finally {
    prefix.pop();
  }
}

export function it(name: string, fn: () => unknown): void {
  collected.push({ name: [...prefix, name].join(' > '), fn });
}

export function collectedTests(): readonly CollectedTest[] {
  return collected;
}
