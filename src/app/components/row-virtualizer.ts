/**
 * Which rows of a long, variable-height list are worth putting in the DOM: the ones in
 * the viewport plus an overscan margin. Heights start as an estimate and are corrected
 * as rows are measured; the class reports how much content above the reading position
 * grew, so the caller can keep the view anchored (older rows prepended, estimates
 * corrected). Framework-free: React binds to it through `subscribe`/`getWindow`.
 */
export const ROW_HEIGHT_ESTIMATE_PX = 64;
/** Rendered beyond each edge of the viewport, so fast scrolling rarely shows a gap. */
export const OVERSCAN_PX = 480;
/** Used until the viewport has a measured height (and where there is no layout at all). */
export const FALLBACK_VIEWPORT_PX = 640;

export interface VisibleWindow {
  /** First rendered row (inclusive). */
  readonly start: number;
  /** Last rendered row (exclusive). */
  readonly end: number;
  /** Space standing in for the rows before `start` and after `end`. */
  readonly padTop: number;
  readonly padBottom: number;
  readonly total: number;
}

export class RowVirtualizer {
  private ids: readonly string[] = [];
  private readonly heights = new Map<string, number>();
  /** offsets[i] = top of row i; offsets[n] = total height. */
  private offsets = new Float64Array(1);
  private scrollTop = 0;
  private viewport = FALLBACK_VIEWPORT_PX;
  private window: VisibleWindow = { start: 0, end: 0, padTop: 0, padBottom: 0, total: 0 };
  private readonly listeners = new Set<() => void>();

  constructor(private readonly estimate = ROW_HEIGHT_ESTIMATE_PX, private readonly overscan = OVERSCAN_PX) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getWindow = (): VisibleWindow => this.window;

  /**
   * Replaces the rows (oldest first). Returns the height now above the row that was
   * first before, when rows were prepended (0 otherwise): add it to scrollTop to keep
   * what the user was reading in place.
   */
  setRows(ids: readonly string[]): number {
    if (ids === this.ids) return 0;
    const oldFirst = this.ids[0];
    this.ids = ids;
    this.relayout();
    let prepended = 0;
    if (oldFirst !== undefined && ids[0] !== oldFirst) {
      const k = ids.indexOf(oldFirst);
      if (k > 0) prepended = this.offsets[k]!;
    }
    this.refresh();
    return prepended;
  }

  /**
   * Records measured heights (non-positive ones mean "no layout" and are ignored).
   * `aboveDelta` is how much the rows above the first visible one changed in height:
   * add it to scrollTop to keep the view from jumping.
   */
  measure(rows: Iterable<readonly [id: string, height: number]>): { readonly changed: boolean; readonly aboveDelta: number } {
    const anchor = this.firstVisibleIndex();
    const index = new Map<string, number>();
    let changed = false;
    let aboveDelta = 0;
    for (const [id, height] of rows) {
      if (!(height > 0)) continue;
      const before = this.heightOf(id);
      if (Math.abs(before - height) < 0.5) continue;
      this.heights.set(id, height);
      changed = true;
      if (index.size === 0) this.ids.forEach((rid, i) => index.set(rid, i));
      const i = index.get(id);
      if (i !== undefined && i < anchor) aboveDelta += height - before;
    }
    if (changed) {
      this.relayout();
      this.refresh();
    }
    return { changed, aboveDelta };
  }

  /** The scroll position and viewport height of the scrolling element. */
  setViewport(scrollTop: number, viewportHeight: number): void {
    this.scrollTop = Math.max(0, scrollTop);
    this.viewport = viewportHeight > 0 ? viewportHeight : FALLBACK_VIEWPORT_PX;
    this.refresh();
  }

  /** Top of row `index` as laid out now (estimates for rows not measured yet). */
  offsetOf(index: number): number {
    return this.offsets[Math.max(0, Math.min(index, this.ids.length))]!;
  }

  get totalHeight(): number {
    return this.offsets[this.ids.length]!;
  }

  private heightOf(id: string): number {
    return this.heights.get(id) ?? this.estimate;
  }

  private relayout(): void {
    const n = this.ids.length;
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + this.heightOf(this.ids[i]!);
    this.offsets = offsets;
  }

  /** Index of the row containing position `y` (the last row for y past the end). */
  private rowAt(y: number): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid + 1]! <= y) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, Math.max(0, this.ids.length - 1));
  }

  private firstVisibleIndex(): number {
    return this.ids.length === 0 ? 0 : this.rowAt(this.scrollTop);
  }

  private refresh(): void {
    const n = this.ids.length;
    const total = this.offsets[n]!;
    let start = 0;
    let end = 0;
    if (n > 0) {
      // With scrollTop past the content (e.g. just after rows were removed) show the end.
      const top = Math.min(this.scrollTop, Math.max(0, total - this.viewport));
      start = this.rowAt(Math.max(0, top - this.overscan));
      end = Math.min(n, this.rowAt(top + this.viewport + this.overscan) + 1);
    }
    const padTop = this.offsets[start]!;
    const padBottom = total - this.offsets[end]!;
    const w = this.window;
    if (w.start === start && w.end === end && w.padTop === padTop && w.padBottom === padBottom && w.total === total) return;
    this.window = { start, end, padTop, padBottom, total };
    for (const l of this.listeners) l();
  }
}
