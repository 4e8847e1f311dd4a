/**
 * Lighthouse on the served app (issue 22): mobile form factor with Lighthouse's default
 * simulated throttling (slow 4G, 4× CPU slowdown), Debian's Chromium launched headless
 * with the flags the tests use. Each run is a cold first visit in a fresh browser (no
 * service worker, no cache), so it measures what a new phone user waits for.
 */
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/support/chromium.ts';

export interface LighthouseRun {
  readonly performance: number;
  readonly accessibility: number;
  readonly bestPractices: number;
  readonly lcpMs: number;
  readonly fcpMs: number;
  readonly tbtMs: number;
  /** Audits that lost points (score < 0.9 with weight), for the notes. */
  readonly weak: readonly string[];
}

function score(value: number | null | undefined): number {
  if (value === null || value === undefined) throw new Error('Lighthouse returned no score (the page did not load?)');
  return value;
}

export async function auditApp(url: string): Promise<LighthouseRun> {
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM_PATH, chromeFlags: ['--headless=new', ...CHROMIUM_ARGS], logLevel: 'silent' });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
    });
    if (!result) throw new Error('Lighthouse returned no result');
    const { lhr } = result;
    if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const numeric = (id: string) => {
      const v = lhr.audits[id]?.numericValue;
      if (v === undefined) throw new Error(`Lighthouse audit ${id} has no value`);
      return v;
    };
    const weak: string[] = [];
    for (const category of Object.values(lhr.categories)) {
      for (const ref of category.auditRefs) {
        const audit = lhr.audits[ref.id];
        if (ref.weight > 0 && audit && audit.score !== null && audit.score < 0.9) weak.push(`${ref.id} ${audit.displayValue ?? audit.score}`);
      }
    }
    return {
      performance: score(lhr.categories.performance?.score),
      accessibility: score(lhr.categories.accessibility?.score),
      bestPractices: score(lhr.categories['best-practices']?.score),
      lcpMs: numeric('largest-contentful-paint'),
      fcpMs: numeric('first-contentful-paint'),
      tbtMs: numeric('total-blocking-time'),
      weak,
    };
  } finally {
    await chrome.kill();
  }
}
