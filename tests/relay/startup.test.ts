import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay/config.ts';
import { DATABASE_FILE } from '../../src/relay/storage/sqlite-database.ts';
import { startTestRelay, tempDataDir } from './helpers/relay-harness.ts';
import { runRelayToExit } from './helpers/relay-process.ts';

const EXIT_CANNOT_START = 3;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(): string {
  const d = tempDataDir();
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The one JSON log line with this message, parsed. */
function logLine(stdout: string, msg: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

describe('relay start-up failures: one clear line, a fatal log record, a non-zero exit', () => {
  it('a port already in use', { timeout: 30_000 }, async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    const port = (holder.address() as { port: number }).port;

    const r = await runRelayToExit(dir(), { PORT: String(port), HOST: '127.0.0.1' });
    expect(r.code).toBe(EXIT_CANNOT_START);
    expect(r.stderr).toBe(`petrel relay: cannot start: port ${port} on 127.0.0.1 is already in use (another relay running? set PORT)\n`);
    expect(logLine(r.stdout, 'relay failed to start')).toMatchObject({ level: 60, reason: 'address_in_use' });
    expect(r.stdout).not.toContain('relay listening');
  });

  it('a data directory that cannot be created', { timeout: 30_000 }, async () => {
    const d = dir();
    writeFileSync(join(d, 'a-file'), 'not a directory');
    const r = await runRelayToExit(d, { PETREL_DATA_DIR: join(d, 'a-file', 'data') });
    expect(r.code).toBe(EXIT_CANNOT_START);
    expect(r.stderr).toMatch(/^petrel relay: cannot start: cannot open the database in PETREL_DATA_DIR=.*a-file\/data: .*\n$/);
    expect(logLine(r.stdout, 'relay failed to start')).toMatchObject({ reason: 'data_dir' });
  });

  it('a database written by a newer relay', { timeout: 30_000 }, async () => {
    const d = dir();
    mkdirSync(d, { recursive: true });
    const db = new Database(join(d, DATABASE_FILE));
    db.pragma('user_version = 99');
    db.close();
    const r = await runRelayToExit(d);
    expect(r.code).toBe(EXIT_CANNOT_START);
    expect(r.stderr).toMatch(/^petrel relay: cannot start: database schema version 99 is newer than this relay \(\d+\)/);
    expect(logLine(r.stdout, 'relay failed to start')).toMatchObject({ reason: 'database_schema' });
  });
});

describe('relay start-up checks', () => {
  it('startRelay rejects with a typed RelayStartError and can be retried on a free port', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    const port = (holder.address() as { port: number }).port;
    const d = dir();
    await expect(startTestRelay({ PORT: String(port) }, d)).rejects.toMatchObject({ name: 'RelayStartError', reason: 'address_in_use' });
    // The failed attempt released the database: the same data dir opens again at once.
    const again = await startTestRelay({}, d);
    await again.stop({ keepData: true });
  });


  it.each(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', 'relay-1.internal'])('accepts HOST=%s', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it.each(['http://localhost', 'localhost:8787', '[::1]', 'two words', '-bad.example', 'a..b'])('refuses HOST=%s with a clear message', (host) => {
    expect(() => loadConfig({ HOST: host })).toThrow(ConfigError);
    expect(() => loadConfig({ HOST: host })).toThrow(/HOST must be an IP address or a host name/);
  });

  it('warns at start when the app directory has no index.html, and not when it has one', async () => {
    const without = await startTestRelay();
    const warning = logLine(without.logs(), 'no index.html in PETREL_APP_DIR: the app is not served, only /ws, /health, /ready and /metrics (build it with npm run build:app)');
    await without.stop();
    expect(warning).toMatchObject({ level: 40, appDir: without.config.appDir });

    const d = dir();
    mkdirSync(join(d, 'app'));
    writeFileSync(join(d, 'app', 'index.html'), '<!doctype html>');
    const withApp = await startTestRelay({ PETREL_APP_DIR: join(d, 'app') }, d);
    const logs = withApp.logs();
    await withApp.stop({ keepData: true });
    expect(logs).toContain('relay listening');
    expect(logs).not.toContain('no index.html');
  });
});
