/**
 * Seeds for the chaos scenarios. `npm test` runs each scenario once with the fixed seed;
 * `PETREL_CHAOS_SEEDS=N` (what `npm run chaos` sets) registers N tests per scenario with
 * seeds 1..N; `PETREL_CHAOS_SEED=s` replays exactly one seed. Every fault a spec injects is
 * drawn from `seededRandom(mix(scenario, seed))`, so a failure replays from its seed.
 */
import { seededRandom, type Random } from '../../../src/core/random.ts';

export const FIXED_SEED = 1;
/** Upper bound on PETREL_CHAOS_SEEDS, so a typo cannot register millions of tests. */
const MAX_SEEDS = 1000;

export function chaosSeeds(env: NodeJS.ProcessEnv = process.env): number[] {
  if (env.PETREL_CHAOS_SEED) {
    const seed = Number(env.PETREL_CHAOS_SEED);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`PETREL_CHAOS_SEED must be a non-negative integer, got "${env.PETREL_CHAOS_SEED}"`);
    return [seed];
  }
  if (env.PETREL_CHAOS_SEEDS) {
    const n = Number(env.PETREL_CHAOS_SEEDS);
    if (!Number.isInteger(n) || n < 1 || n > MAX_SEEDS) throw new Error(`PETREL_CHAOS_SEEDS must be an integer from 1 to ${MAX_SEEDS}, got "${env.PETREL_CHAOS_SEEDS}"`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  return [FIXED_SEED];
}

/** The schedule's PRNG for one scenario and seed. */
export function scheduleRandom(scenario: number, seed: number): Schedule {
  return new Schedule(seededRandom(scenario * 1_000_003 + seed));
}

export class Schedule {
  constructor(private readonly random: Random) {}

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.random.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.random.float() < p;
  }

  /** `count` distinct sorted integers in [min, max]. */
  indices(count: number, min: number, max: number): number[] {
    const picked = new Set<number>();
    while (picked.size < Math.min(count, max - min + 1)) picked.add(this.int(min, max));
    return [...picked].sort((a, b) => a - b);
  }
}
