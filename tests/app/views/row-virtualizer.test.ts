// @vitest-environment happy-dom
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FALLBACK_VIEWPORT_PX, RowVirtualizer } from '../../../src/app/components/row-virtualizer.ts';

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `m${from + i}`);

describe('RowVirtualizer', () => {
  it('renders only the viewport plus overscan of 10,000 rows, with padding standing in for the rest', () => {
    const v = new RowVirtualizer(50, 100);
    v.setRows(ids(10_000));
    v.setViewport(250_000, 500);
    const w = v.getWindow();
    // rows 5000..5010 are visible; 2 rows of overscan each side
    expect(w.start).toBe(4998);
    expect(w.end).toBe(5013);
    expect(w.padTop).toBe(4998 * 50);
    expect(w.padTop + (w.end - w.start) * 50 + w.padBottom).toBe(w.total);
    expect(w.total).toBe(500_000);
  });

  it('uses a fallback viewport where there is no layout', () => {
    const v = new RowVirtualizer(50, 0);
    v.setRows(ids(1000));
    v.setViewport(0, 0);
    expect(v.getWindow().end).toBe(Math.floor(FALLBACK_VIEWPORT_PX / 50) + 1);
  });

  it('corrects estimates with measurements and reports growth above the first visible row', () => {
    const v = new RowVirtualizer(50, 0);
    v.setRows(ids(100));
    v.setViewport(1000, 200); // first visible row is m20
    const { changed, aboveDelta } = v.measure([
      ['m18', 80],
      ['m19', 50],
      ['m21', 10],
    ]);
    expect(changed).toBe(true);
    expect(aboveDelta).toBe(30);
    expect(v.totalHeight).toBe(100 * 50 + 30 - 40);
  });

  it('ignores zero heights (no layout) and unchanged heights', () => {
    const v = new RowVirtualizer(50, 0);
    v.setRows(ids(10));
    expect(v.measure([['m1', 0], ['m2', 50], ['m3', Number.NaN]])).toEqual({ changed: false, aboveDelta: 0 });
    expect(v.totalHeight).toBe(500);
  });

  it('reports the height of prepended rows so the reader stays in place', () => {
    const v = new RowVirtualizer(40, 0);
    const page = ids(50, 100);
    v.setRows(page);
    expect(v.setRows([...ids(30, 70), ...page])).toBe(30 * 40);
    expect(v.setRows([...ids(30, 70), ...page, 'm150'])).toBe(0);
  });

  it('notifies only when the window changes', () => {
    const v = new RowVirtualizer(50, 0);
    let notified = 0;
    v.subscribe(() => notified++);
    v.setRows(ids(100));
    const after = notified;
    v.setViewport(0, FALLBACK_VIEWPORT_PX);
    v.setViewport(10, FALLBACK_VIEWPORT_PX - 10); // both edges stay inside the same rows
    expect(notified).toBe(after);
  });

  it('property: the window always covers the viewport and stays within the rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 300 }),
        fc.nat({ max: 100_000 }),
        fc.integer({ min: 1, max: 2000 }),
        (heights, scroll, viewport) => {
          const v = new RowVirtualizer(60, 120);
          const rowIds = ids(heights.length);
          v.setRows(rowIds);
          v.measure(rowIds.map((id, i) => [id, heights[i]!] as const));
          v.setViewport(scroll, viewport);
          const w = v.getWindow();
          const total = heights.reduce((a, b) => a + b, 0);
          expect(w.total).toBe(total);
          expect(0 <= w.start && w.start < w.end && w.end <= heights.length).toBe(true);
          const top = Math.min(scroll, Math.max(0, total - viewport));
          expect(w.padTop).toBeLessThanOrEqual(top);
          expect(total - w.padBottom).toBeGreaterThanOrEqual(Math.min(total, top + viewport));
        },
      ),
    );
  });
});
