/**
 * The e2e benchmark's stage breakdown (bench/e2e/stages.ts): each message's chain of marks
 * walked in order across sources, with a little clock difference between processes
 * allowed; a chain that does not complete is left out and counted; and the relay's trace
 * file (src/relay/stage-trace-file.ts) read back as written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { breakdown, CHAINS, emptyMarks, readRelayMarks, type Marks } from '../../bench/e2e/stages.ts';
import type { SendTiming } from '../../bench/e2e/probe.ts';
import { stageTraceFile } from '../../src/relay/stage-trace-file.ts';

/** The marks one direct-path message leaves, `t0` being Enter, every step `step` ms after the one before. */
function directMessage(marks: Marks, t0: number, step: number, skewB = 0): SendTiming {
  let t = t0;
  for (const s of CHAINS.direct) {
    t += step;
    marks[s.source].push([s.stage, s.source.startsWith('B') ? t + skewB : t]);
  }
  return { text: 'x', enter: t0, shown: t0 + 1, sent: t0 + 2, delivered: t + step, via: 'direct' };
}

describe('the e2e stage breakdown', () => {
  it('walks each chain in order, one source after another, and gives the median of every step', () => {
    const marks = emptyMarks();
    // Unrelated marks in between (another projection, a second commit) are skipped over.
    marks['A.worker'].push(['view.projected', 1_001.5], ['receive.committed', 1_000.5]);
    const timings = [directMessage(marks, 1_000, 2), directMessage(marks, 2_000, 2), directMessage(marks, 3_000, 4)];
    const b = breakdown(CHAINS.direct, timings, marks);
    expect(b.complete).toBe(3);
    expect(b.rows).toHaveLength(CHAINS.direct.length + 1);
    expect(b.rows.map((r) => r.took)).toEqual(b.rows.map(() => 2));
    expect(b.p50).toBe(2 * (CHAINS.direct.length + 1));
  });

  it('allows a few ms of clock difference between processes, and leaves a broken chain out, counted', () => {
    const marks = emptyMarks();
    // Bob's clock 3 ms behind: his first step seems to come before Alice's hand-off.
    const skewed = directMessage(marks, 1_000, 2, -3);
    const broken = directMessage(emptyMarks(), 5_000, 2); // its marks never recorded
    const b = breakdown(CHAINS.direct, [skewed, broken], marks);
    expect(b.complete).toBe(1);
    expect(b.total).toBe(2);
    expect(b.stuck).toBe('page.command ×1');
  });

  it("reads the relay's trace file back as the relay wrote it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'petrel-trace-test-'));
    try {
      const file = join(dir, 'marks.tsv');
      const trace = stageTraceFile(file);
      trace.mark('relay.received');
      trace.mark('relay.committed');
      trace.close();
      const read = readRelayMarks(file);
      expect(read.map(([s]) => s)).toEqual(['relay.received', 'relay.committed']);
      expect(read[1]![1]).toBeGreaterThanOrEqual(read[0]![1]);
      expect(Math.abs(read[0]![1] - (performance.timeOrigin + performance.now()))).toBeLessThan(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
