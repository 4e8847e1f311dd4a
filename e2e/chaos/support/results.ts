/**
 * One line of JSON per finished scenario run, appended to the results file that
 * `scripts/chaos.mjs` turns into docs/CHAOS.md (`PETREL_CHAOS_RESULTS`, default
 * `$TMPDIR/petrel-chaos-results.jsonl`; Playwright empties test-results/ on every run).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { InvariantResult } from './invariants.ts';

export interface ScenarioRecord extends InvariantResult {
  readonly scenario: string;
  readonly seed: number;
  readonly ok: boolean;
  /** Faults actually injected (kills, cuts, reloads, ...), for the report. */
  readonly faults: string;
}

export function resultsFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.PETREL_CHAOS_RESULTS ?? join(tmpdir(), 'petrel-chaos-results.jsonl');
}

export function appendResult(record: ScenarioRecord): void {
  const file = resultsFile();
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}
