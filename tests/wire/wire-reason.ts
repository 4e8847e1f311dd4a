import { WireError, type WireErrorReason } from '../../src/core/wire/index.ts';

/** The WireError reason `fn` throws, 'no error' if it returns, 'other error' for anything untyped. */
export function reasonOf(fn: () => unknown): WireErrorReason | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof WireError ? err.reason : 'other error';
  }
}
