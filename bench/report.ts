import type { BenchResult } from './types.ts';
import { formatNumber } from './stats.ts';

export interface MachineInfo {
  readonly date: string;
  readonly commit: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly chromium: string;
  readonly platform: string;
}

export interface ResultsFile {
  readonly machine: MachineInfo;
  readonly results: Record<string, BenchResult | { name: string; title: string; error: string }>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart of medians (with min–max whiskers), one group per metric. */
export function chartSvg(result: BenchResult): string {
  const metrics = [...new Set(result.rows.map((r) => `${r.metric} (${r.unit})`))];
  const barH = 18;
  const gap = 6;
  const labelW = 230;
  const plotW = 420;
  let y = 28;
  const parts: string[] = [];
  for (const m of metrics) {
    const rows = result.rows.filter((r) => `${r.metric} (${r.unit})` === m);
    const max = Math.max(...rows.map((r) => r.max), 1e-9);
    parts.push(`<text x="8" y="${y}" font-weight="bold">${esc(m)}</text>`);
    y += 8;
    for (const r of rows) {
      const w = (r.median / max) * plotW;
      const x0 = labelW + (r.min / max) * plotW;
      const x1 = labelW + (r.max / max) * plotW;
      const cy = y + barH / 2;
      parts.push(
        `<text x="${labelW - 6}" y="${cy + 4}" text-anchor="end">${esc(r.subject)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${r.subject.toLowerCase().startsWith('petrel') ? '#0b7a75' : '#8a9bb0'}"/>`,
        `<line x1="${x0.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${cy}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${cy + 4}">${esc(formatNumber(r.median))}</text>`,
      );
      y += barH + gap;
    }
    y += 16;
  }
  const h = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 90}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="16" font-size="14" font-weight="bold">${esc(result.title)}</text>
${parts.join('\n')}
</svg>
`;
}

export function markdown(file: ResultsFile, chartPath: (name: string) => string): string {
  const m = file.machine;
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts) — do not edit by hand. Each benchmark runs',
    'Petrel and its comparison in the same process and run, several rounds after a warm-up;',
    'tables give the median and the min–max spread over rounds. Ratios are the headline,',
    'absolute numbers are context for this machine. Raw data: `bench/results.json`.',
    '',
    'The machine below is that of the latest run. `npm run bench NAME` re-runs one benchmark',
    'and keeps the other results from earlier runs, possibly on another machine of the same',
    'kind (2 cores, 24 GiB); a comparison within a table is always from one run.',
    '',
    '| machine (latest run) | |',
    '|---|---|',
    `| date | ${m.date} |`,
    `| commit | ${m.commit} |`,
    `| CPU | ${m.cpu} (${m.cores} cores) |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| Node | ${m.node} |`,
    `| Chromium | ${m.chromium} |`,
    `| platform | ${m.platform} |`,
    '',
  ];
  const goals = Object.values(file.results).flatMap((r) => ('goals' in r ? r.goals.map((g) => ({ bench: r.title, ...g })) : []));
  if (goals.length) {
    out.push('## Goals', '', '| benchmark | goal | measured | met |', '|---|---|---|---|');
    for (const g of goals) out.push(`| ${g.bench} | ${g.description} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  for (const r of Object.values(file.results)) {
    out.push(`## ${r.title}`, '');
    if ('error' in r) {
      out.push(`Did not complete: \`${r.error}\``, '');
      continue;
    }
    out.push('| subject | metric | median | min – max | unit | rounds |', '|---|---|---:|---:|---|---:|');
    for (const row of r.rows) {
      out.push(`| ${row.subject} | ${row.metric} | ${formatNumber(row.median)} | ${formatNumber(row.min)} – ${formatNumber(row.max)} | ${row.unit} | ${row.samples.length} |`);
    }
    out.push('', `![${r.title}](${chartPath(r.name)})`, '');
    if (r.notes?.length) out.push(...r.notes.map((n) => `- ${n}`), '');
  }
  return out.join('\n');
}
