/**
 * Names compared as a person reads them: compatibility-normalised, trimmed, case-folded.
 * Its own file so the app can compare names without loading the key-change rules and
 * the crypto behind them.
 */
export function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.normalize('NFKC').trim().toLocaleLowerCase();
  return norm(a) === norm(b);
}
