/**
 * Where a Petrel session setup's time goes (issue 15): runs the crypto benchmark's own
 * setup (bench/crypto/petrel.ts: Alice verifies Bob's bundle, PQXDH, first message, Bob
 * accepts it) N times and reports wall and CPU time per setup and how many WebCrypto calls
 * of each kind one setup makes (by wrapping this process's crypto.subtle methods: nothing
 * in src/ knows about it). The synchronous @noble work (ML-KEM, Ed25519 point decoding,
 * hashes) shows in the CPU profile: attribute it with bench/crypto/profile-attribute.mjs.
 *
 *   npx tsx bench/crypto/profile-setup.ts [setups=200]
 *   npx tsx bench/crypto/profile-setup.ts ping-pong [messages=2000]   (the same for ping-pong messages)
 *   PROFILE_OUT=/tmp/setup.cpuprofile npx tsx bench/crypto/profile-setup.ts 300
 *
 * COUNT=0 leaves the WebCrypto calls uncounted (the counting wrapper's own cost out of the times).
 * PROFILE_OUT writes a V8 CPU profile of the timed setups only (not of key generation).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { petrel } from './petrel.ts';
import type { Pair, Side } from './subject.ts';

const mode = process.argv[2] === 'ping-pong' ? 'ping-pong' : 'setup';
const n = Number(process.argv[mode === 'setup' ? 2 : 3] ?? (mode === 'setup' ? 200 : 2000));
const counts = new Map<string, number>();
const timeIn = new Map<string, number>();
const bump = (k: string, ms = 0) => {
  counts.set(k, (counts.get(k) ?? 0) + 1);
  timeIn.set(k, (timeIn.get(k) ?? 0) + ms);
};
let counting = false;

// WebCrypto calls (async: the time column is wall time until the promise settles, not CPU).
const subtle = globalThis.crypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const method of ['importKey', 'exportKey', 'generateKey', 'deriveBits', 'verify', 'sign', 'encrypt', 'decrypt', 'digest']) {
  const original = subtle[method]!.bind(globalThis.crypto.subtle);
  subtle[method] = (...args: unknown[]) => {
    if (!counting) return original(...args);
    const alg = args[method === 'importKey' || method === 'exportKey' ? 2 : 0] as { name?: string } | string | undefined;
    const name = typeof alg === 'string' ? alg : (alg?.name ?? (method === 'exportKey' ? String(args[0]) : '?'));
    const t0 = performance.now();
    const p = original(...args);
    return p.finally(() => bump(`webcrypto ${method} ${method === 'exportKey' ? '' : name}`.trim(), performance.now() - t0));
  };
}

/** One ping-pong message as the benchmark sends it: encrypt on one side, decrypt on the other (a DH ratchet step each). */
async function exchange(pair: Pair, i: number): Promise<void> {
  const from: Side = i % 2 === 0 ? 'alice' : 'bob';
  await pair.receive(from === 'alice' ? 'bob' : 'alice', await pair.send(from, new Uint8Array(100)));
}

async function main(): Promise<void> {
  const warm = [];
  for (let i = 0; i < 20; i++) warm.push(await petrel.createPair());
  for (const p of warm) await p.setup();
  const pairs = [];
  for (let i = 0; i < (mode === 'setup' ? n : 1); i++) pairs.push(await petrel.createPair());
  const chat = pairs[0]!;
  if (mode === 'ping-pong') {
    await chat.setup();
    await chat.receive('alice', await chat.send('bob', new Uint8Array(100)));
    for (let i = 0; i < 200; i++) await exchange(chat, i);
  }
  const profileTo = process.env.PROFILE_OUT;
  const inspector = profileTo ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  }
  counting = process.env.COUNT !== '0';
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (mode === 'setup') for (const p of pairs) await p.setup();
  else for (let i = 0; i < n; i++) await exchange(chat, i);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  counting = false;
  if (inspector && profileTo) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
    inspector.disconnect();
  }
  const perSetup = (v: number) => (v / n).toFixed(3);
  const what = mode === 'setup' ? 'setup' : 'message';
  console.log(`${n} ${what}s: wall ${perSetup(wall)} ms/${what} (${(n / (wall / 1000)).toFixed(0)}/s), CPU user ${perSetup(cpu.user / 1000)} + system ${perSetup(cpu.system / 1000)} ms/${what} (all threads)`);
  console.log(`calls per ${what}, and ms per ${what} inside them (WebCrypto: wall until settled, overlapping):`);
  for (const [k, c] of [...counts].sort()) console.log(`  ${k.padEnd(36)} ${(c / n).toFixed(2).padStart(6)}  ${perSetup(timeIn.get(k) ?? 0).padStart(8)} ms`);
}

await main();
