/**
 * Registers a chaos scenario once per seed (see seed.ts), with cleanups that always run,
 * the seed in the title and a replay line attached on failure, and its counts appended
 * to the results file for docs/CHAOS.md.
 */
import { test, type Browser } from '@playwright/test';
import type { InvariantResult } from './invariants.ts';
import { appendResult } from './results.ts';
import { chaosSeeds, scheduleRandom, type Schedule } from './seed.ts';

/** A scenario's whole budget, set-up and settling included (loaded 2-core box). */
export const SCENARIO_TIMEOUT_MS = 180_000;

export interface ScenarioContext {
  readonly browser: Browser;
  readonly seed: number;
  readonly schedule: Schedule;
  /** Runs at the end of the test, last registered first, pass or fail. */
  defer(cleanup: () => Promise<unknown> | unknown): void;
  /** Records the run's counts and a short description of the faults injected. */
  record(result: InvariantResult, faults: string): void;
}

export interface ScenarioOptions {
  /**
   * A second run of the same scenario in one file (e.g. `data channel`): it goes into the
   * test title, which must be unique, but not into the results, so the report counts both
   * runs under the scenario.
   */
  readonly variant?: string;
  /** The scenario's budget when it needs more than SCENARIO_TIMEOUT_MS (e.g. 50 page loads). */
  readonly timeoutMs?: number;
  /** Registered as `test.fixme` with this reason (an issue number): known not to pass, or never judged. */
  readonly fixme?: string;
}

export function scenario(number: number, title: string, file: string, run: (ctx: ScenarioContext) => Promise<void>, options: ScenarioOptions = {}): void {
  const name = options.variant ? `${number}. ${title} (${options.variant})` : `${number}. ${title}`;
  for (const seed of chaosSeeds()) {
    (options.fixme ? test.fixme : test)(`${name} [seed ${seed}]`, async ({ browser }, testInfo) => {
      test.setTimeout(options.timeoutMs ?? SCENARIO_TIMEOUT_MS);
      const cleanups: (() => Promise<unknown> | unknown)[] = [];
      let recorded: { result: InvariantResult; faults: string } | undefined;
      let ok = false;
      let failure: string | undefined;
      try {
        await run({
          browser,
          seed,
          schedule: scheduleRandom(number, seed),
          defer: (c) => cleanups.push(c),
          record: (result, faults) => (recorded = { result, faults }),
        });
        ok = true;
      } catch (err) {
        failure = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
        testInfo.annotations.push({ type: 'replay', description: `PETREL_CHAOS_SEED=${seed} npx playwright test ${file}` });
        throw err;
      } finally {
        for (const c of cleanups.reverse()) {
          try {
            await c();
          } catch {
            // a cleanup failing must not hide the scenario's own outcome
          }
        }
        if (recorded) {
          const { sent, received, lost, duplicated, reordered, unconfirmed, ms, lostDetail } = recorded.result;
          appendResult({ scenario: `${number}. ${title}`, seed, ok, faults: recorded.faults, sent, received, lost, duplicated, reordered, unconfirmed, ms, ...(lostDetail?.length ? { lostDetail } : {}) });
        } else {
          // Failed before its invariants were judged (set-up, or a fault the product did not
          // survive): still a run of this scenario, so the report cannot pass over it.
          appendResult({ scenario: `${number}. ${title}`, seed, ok: false, unjudged: true, faults: `not judged: ${failure ?? 'ended without a verdict'}` });
        }
      }
    });
  }
}
