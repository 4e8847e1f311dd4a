/**
 * The platform's `StageTrace` (src/core/stage-trace.ts): keeps each mark with its time on
 * the one clock every page, worker and process of the machine shares
 * (`performance.timeOrigin + performance.now()`, ms), until the benchmark takes them.
 * Made only when the page asks for tracing (`TRACE_FLAG`, test-hooks.ts).
 */
import type { StageTrace } from '../core/stage-trace.ts';

/** One mark: the stage's name and when it happened (ms on the shared clock). */
export type StageMark = readonly [stage: string, at: number];

/** Marks kept at most between two takes (the oldest are kept, later ones dropped). */
export const STAGE_MARKS_MAX = 200_000;

export class StageRecorder implements StageTrace {
  private marks: StageMark[] = [];

  mark(stage: string): void {
    if (this.marks.length < STAGE_MARKS_MAX) this.marks.push([stage, performance.timeOrigin + performance.now()]);
  }

  /** The marks since the last take, oldest first. */
  take(): StageMark[] {
    const taken = this.marks;
    this.marks = [];
    return taken;
  }
}
