/**
 * `npm run bench [name ...] [--quick]`: runs the benchmarks in bench/*.bench.ts (all, or
 * the named ones), then writes docs/BENCHMARKS.md, docs/bench/<name>.svg and
 * bench/results.json. Results of benchmarks not run this time are kept from the last
 * results file, so one benchmark can be re-run alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Benchmark } from './types.ts';
import { chartSvg, markdown, type MachineInfo, type ResultsFile } from './report.ts';

export interface HarnessOptions {
  readonly root: string;
  readonly benchmarks: readonly Benchmark[];
  readonly quick: boolean;
  readonly log?: (line: string) => void;
}

function tryRun(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(root: string): MachineInfo {
  return {
    date: new Date().toISOString(),
    commit: tryRun('git', ['rev-parse', '--short', 'HEAD'], root),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    chromium: tryRun(process.env.PETREL_CHROMIUM ?? '/usr/bin/chromium', ['--version']).split('\n').pop() ?? 'unknown',
    platform: `${platform()} ${release()}`,
  };
}

export async function loadBenchmarks(root: string, names: readonly string[]): Promise<Benchmark[]> {
  const dir = join(root, 'bench');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
  const all: Benchmark[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: Benchmark };
    all.push(mod.default);
  }
  const unknown = names.filter((n) => !all.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${all.map((b) => b.name).join(', ')}`);
  return names.length ? all.filter((b) => names.includes(b.name)) : all;
}

export async function runHarness(opts: HarnessOptions): Promise<ResultsFile> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const jsonPath = join(opts.root, 'bench', 'results.json');
  const previous: ResultsFile | undefined = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : undefined;
  const results: ResultsFile['results'] = { ...(previous?.results ?? {}) };
  for (const b of opts.benchmarks) {
    log(`bench: ${b.name} (${b.title})${opts.quick ? ' [quick]' : ''}`);
    const t0 = performance.now();
    try {
      results[b.name] = await b.run({ quick: opts.quick });
    } catch (err) {
      results[b.name] = { name: b.name, title: b.title, error: err instanceof Error ? err.message : String(err) };
      log(`bench: ${b.name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    }
    log(`bench: ${b.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const file: ResultsFile = { machine: machineInfo(opts.root), results };
  mkdirSync(join(opts.root, 'docs', 'bench'), { recursive: true });
  for (const r of Object.values(results)) {
    if ('rows' in r) writeFileSync(join(opts.root, 'docs', 'bench', `${r.name}.svg`), chartSvg(r));
  }
  writeFileSync(jsonPath, JSON.stringify(file, null, 2) + '\n');
  writeFileSync(join(opts.root, 'docs', 'BENCHMARKS.md'), markdown(file, (n) => `bench/${n}.svg`));
  return file;
}

const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isMain) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
  const benchmarks = await loadBenchmarks(root, names);
  const file = await runHarness({ root, benchmarks, quick });
  const failed = Object.values(file.results).filter((r) => 'error' in r);
  process.exitCode = failed.length ? 1 : 0;
}
