/**
 * One line of JSON per finished scenario run, appended to the results file that
 * `scripts/chaos.mjs` turns into docs/CHAOS.md (`PETREL_CHAOS_RESULTS`, default
 * `$TMPDIR/petrel-chaos-results.jsonl`; Playwright empties test-results/ on every run).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { InvariantResult } from './invariants.ts';

interface RunIdentity {
  readonly scenario: string;
  readonly seed: number;
  /** Faults actually injected (kills, cuts, reloads, ...), for the report; why, for an unjudged run. */
  readonly faults: string;
}

/** A run whose invariants were judged (`ok` false: an invariant failed). */
export interface JudgedRecord extends RunIdentity, InvariantResult {
  readonly ok: boolean;
}

/** A run that failed before its invariants could be judged: no counts. */
export interface UnjudgedRecord extends RunIdentity {
  readonly ok: false;
  readonly unjudged: true;
}

export type ScenarioRecord = JudgedRecord | UnjudgedRecord;

export function resultsFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.PETREL_CHAOS_RESULTS ?? join(tmpdir(), 'petrel-chaos-results.jsonl');
}

export function appendResult(record: ScenarioRecord): void {
  const file = resultsFile();
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}
