import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay/config.ts';

describe('relay configuration', () => {
  it('defaults to port 8787 and ./data', () => {
    const c = loadConfig({}, '/srv/petrel');
    expect(c.port).toBe(8787);
    expect(c.dataDir).toBe('/srv/petrel/data');
    expect(c.appDir).toBe('/srv/petrel/dist/app');
  });
  it('has safe defaults for durability, retention and limits', () => {
    const c = loadConfig({}, '/srv/petrel');
    expect(c.dbSynchronous).toBe('FULL');
    expect(c.retentionMs).toBe(30 * 24 * 60 * 60 * 1000);
    expect(c.allowedOrigins).toEqual([]);
    expect(c.trustProxy).toBe(false);
    expect(c.maxConnectionsPerIp).toBeLessThan(c.maxConnections);
  });
  it('refuses a port that is not an integer in range', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be an integer/);
  });
  it('refuses an unknown log level', () => {
    expect(() => loadConfig({ PETREL_LOG_LEVEL: 'loud' })).toThrow(/PETREL_LOG_LEVEL/);
  });
  it('reads every limit from the environment', () => {
    const c = loadConfig({
      PETREL_RETENTION_DAYS: '7',
      PETREL_MAILBOX_MAX_ENVELOPES: '50',
      PETREL_MAILBOX_MAX_BYTES: '1048576',
      PETREL_DB_SYNCHRONOUS: 'normal',
      PETREL_ALLOWED_ORIGINS: 'https://a.example, https://b.example:8443',
      PETREL_TRUST_PROXY: 'true',
      PETREL_HEARTBEAT_SEC: '15',
    });
    expect(c.retentionMs).toBe(7 * 86_400_000);
    expect(c.mailboxMaxEnvelopes).toBe(50);
    expect(c.mailboxMaxBytes).toBe(1048576);
    expect(c.dbSynchronous).toBe('NORMAL');
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(c.trustProxy).toBe(true);
    expect(c.heartbeatIntervalMs).toBe(15_000);
  });
  it.each([
    [{ PETREL_RETENTION_DAYS: '0' }, /PETREL_RETENTION_DAYS/],
    [{ PETREL_DB_SYNCHRONOUS: 'OFF' }, /PETREL_DB_SYNCHRONOUS must be one of FULL, NORMAL/],
    [{ PETREL_ALLOWED_ORIGINS: 'chat.example.org' }, /PETREL_ALLOWED_ORIGINS/],
    [{ PETREL_ALLOWED_ORIGINS: 'https://a.example/path' }, /PETREL_ALLOWED_ORIGINS/],
    [{ PETREL_TRUST_PROXY: 'maybe' }, /PETREL_TRUST_PROXY/],
    [{ PETREL_MAILBOX_MAX_BYTES: '1000' }, /PETREL_MAILBOX_MAX_BYTES/],
    [{ PETREL_PREKEY_POOL_MAX: '5', PETREL_PREKEY_LOW_THRESHOLD: '10' }, /PETREL_PREKEY_LOW_THRESHOLD/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('.env.example', () => {
  const root = join(import.meta.dirname, '..', '..');
  const documented: Record<string, string> = {};
  for (const line of readFileSync(join(root, '.env.example'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)=(\S*)/);
    if (m) documented[m[1]!] = m[2]!;
  }

  it('documents every variable the relay reads', () => {
    const source = readFileSync(join(root, 'src/relay/config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/\b(PORT|HOST|PETREL_[A-Z_]+)\b/g)].map((m) => m[1]!));
    expect([...read].filter((v) => !(v in documented))).toEqual([]);
  });

  it('shows the actual defaults', () => {
    expect(loadConfig(documented, '/srv/petrel')).toEqual(loadConfig({}, '/srv/petrel'));
  });
});
