import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'app-size.mjs');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fake dist/app: a Vite manifest plus the files it names. */
function fakeBuild(manifest: Record<string, unknown>, files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'petrel-app-size-'));
  dirs.push(dir);
  mkdirSync(join(dir, '.vite'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, '.vite', 'manifest.json'), JSON.stringify(manifest));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function run(...args: string[]) {
  const res = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: res.status, stderr: res.stderr, report: res.status === 2 ? null : JSON.parse(res.stdout) };
}

const gz = (s: string | Buffer) => gzipSync(s, { level: 9 }).length;

describe('scripts/app-size.mjs', () => {
  it('counts the entry and its static imports (transitively, once each), not dynamic imports', () => {
    const entry = 'import"./vendor.js";'.repeat(50);
    const vendor = 'export const react = 1;'.repeat(200);
    const shared = 'export const s = 2;';
    const lazy = 'export const chat = 3;'.repeat(100);
    const dir = fakeBuild(
      {
        'index.html': { file: 'assets/index.js', isEntry: true, imports: ['_vendor.js', '_shared.js'], dynamicImports: ['src/chat.tsx'], css: ['assets/index.css'] },
        '_vendor.js': { file: 'assets/vendor.js', imports: ['_shared.js'] },
        // a cycle must not loop forever nor count twice
        '_shared.js': { file: 'assets/shared.js', imports: ['_vendor.js'] },
        'src/chat.tsx': { file: 'assets/chat.js', isDynamicEntry: true, imports: ['_shared.js'] },
      },
      { 'assets/index.js': entry, 'assets/vendor.js': vendor, 'assets/shared.js': shared, 'assets/chat.js': lazy, 'assets/index.css': 'body{margin:0}' },
    );
    const { status, report } = run('--dir', dir);
    expect(status).toBe(0);
    expect(report.initialJs.chunks.map((c: { file: string }) => c.file)).toEqual(['assets/index.js', 'assets/vendor.js', 'assets/shared.js']);
    expect(report.initialJs.rawBytes).toBe(entry.length + vendor.length + shared.length);
    expect(report.initialJs.gzipBytes).toBe(gz(entry) + gz(vendor) + gz(shared));
    expect(report.lazyJs.chunks).toEqual([{ file: 'assets/chat.js', rawBytes: lazy.length, gzipBytes: gz(lazy) }]);
    expect(report.initialCss.rawBytes).toBe('body{margin:0}'.length);
    expect(report.withinBudget).toBe(true);
    expect(report.budgetGzipBytes).toBe(250_000);
  });

  it('--check fails when the initial JavaScript exceeds the budget', () => {
    const incompressible = randomBytes(260_000);
    const dir = fakeBuild({ 'index.html': { file: 'assets/index.js', isEntry: true } }, { 'assets/index.js': incompressible });
    expect(run('--dir', dir).status).toBe(0);
    const { status, report } = run('--dir', dir, '--check');
    expect(status).toBe(1);
    expect(report.withinBudget).toBe(false);
    expect(report.initialJs.gzipBytes).toBeGreaterThan(250_000);
  });

  it('says what is missing instead of crashing when there is no build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'petrel-app-size-'));
    dirs.push(dir);
    const { status, stderr } = run('--dir', dir);
    expect(status).toBe(2);
    expect(stderr).toMatch(/cannot read .*manifest\.json \(run `npm run build` first\)/);
  });

  it('rejects a manifest without an entry and unknown arguments', () => {
    const dir = fakeBuild({ '_x.js': { file: 'assets/x.js' } }, { 'assets/x.js': 'x' });
    expect(run('--dir', dir).stderr).toMatch(/no entry chunk/);
    expect(run('--bogus').status).toBe(2);
  });
});
