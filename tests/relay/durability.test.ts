import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { spawnSync } from 'node:child_process';
import { TestClient } from './helpers/test-client.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dirs: string[] = [];
const procs: RelayProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string) {
  const p = await spawnRelay(dir);
  procs.push(p);
  return p;
}

/** Connects as `id` and collects deliveries until `expected` ids arrived (in order of arrival). */
async function drain(url: string, id: ReturnType<typeof newIdentity>, expected: number): Promise<string[]> {
  const c = await TestClient.connect(url);
  const ready = await c.auth(id);
  expect(ready.queued).toBe(expected);
  await c.until(() => (c.frames.filter((f) => f.t === 'deliver').length >= expected ? true : undefined), `${expected} deliveries`, 15_000);
  const ids = c.frames.flatMap((f) => (f.t === 'deliver' ? [hex(f.env.id)] : []));
  c.close();
  return ids;
}

describe('relay durability across process death', () => {
  it('every envelope answered `sent` survives SIGKILL mid-stream and is delivered, in order, after restart', { timeout: 60_000 }, async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const bob = newIdentity();
    const relay = await start(dir);
    const sender = await TestClient.connect(relay.url);
    const envs = Array.from({ length: 400 }, () => randomEnvelope(bob.mailbox, 512));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: i, env }));
    await sender.until(() => (sender.frames.filter((f) => f.t === 'sent').length >= 100 ? true : undefined), '100 sent');
    relay.child.kill('SIGKILL');
    expect((await relay.exited).signal).toBe('SIGKILL');
    await sender.waitClosed().catch(() => undefined);
    const acked = sender.frames.flatMap((f) => (f.t === 'sent' ? [hex(f.id)] : []));
    expect(acked.length).toBeGreaterThanOrEqual(100);

    const restarted = await start(dir);
    const c = await TestClient.connect(restarted.url);
    const ready = await c.auth(bob);
    // Everything acknowledged is there; perhaps a few more that committed before their `sent` went out.
    expect(ready.queued).toBeGreaterThanOrEqual(acked.length);
    await c.until(() => (c.frames.filter((f) => f.t === 'deliver').length >= ready.queued ? true : undefined), 'all deliveries', 15_000);
    const delivered = c.frames.flatMap((f) => (f.t === 'deliver' ? [hex(f.env.id)] : []));
    expect(delivered).toEqual(envs.slice(0, ready.queued).map((e) => hex(e.id)));
    for (const id of acked) expect(delivered).toContain(id);
    c.close();
  });

  it('graceful shutdown (SIGTERM) under load loses no accepted envelope and exits 0', { timeout: 60_000 }, async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const bob = newIdentity();
    const relay = await start(dir);
    const sender = await TestClient.connect(relay.url);
    const envs = Array.from({ length: 400 }, () => randomEnvelope(bob.mailbox, 512));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: i, env }));
    await sender.until(() => (sender.frames.filter((f) => f.t === 'sent').length >= 50 ? true : undefined), '50 sent');
    relay.child.kill('SIGTERM');
    expect(await sender.waitClosed(15_000)).toBe(1001);
    expect((await relay.exited).code).toBe(0);
    const acked = sender.frames.flatMap((f) => (f.t === 'sent' ? [hex(f.id)] : []));
    // Frames not accepted were refused explicitly, never silently dropped after `sent`.
    const refused = sender.frames.filter((f) => f.t === 'error');
    for (const e of refused) expect(e).toMatchObject({ code: 'overloaded' });

    const restarted = await start(dir);
    const delivered = await drain(restarted.url, bob, acked.length);
    expect(new Set(delivered)).toEqual(new Set(acked));
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);
  });

  it('a quiet relay shuts down promptly on SIGINT', { timeout: 30_000 }, async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const relay = await start(dir);
    const c = await TestClient.connect(relay.url);
    const started = Date.now();
    relay.child.kill('SIGINT');
    expect(await c.waitClosed()).toBe(1001);
    expect((await relay.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(relay.output()).toContain('"msg":"relay stopped"');
  });
});

describe('relay start-up', () => {
  it('exits with code 2 and names the variable when the configuration is invalid', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/relay/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, PETREL_MAILBOX_MAX_ENVELOPES: 'lots' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PETREL_MAILBOX_MAX_ENVELOPES must be an integer');
  });
});
