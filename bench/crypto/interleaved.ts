/**
 * Petrel against libsignal-client with the two interleaved in short rounds (setup, then
 * ping-pong), so that a machine whose load changes during the run (the shared 2-core dev
 * machine) affects both sides of each ratio alike. Same subjects and operations as
 * crypto.bench.ts; reports the median of the per-round ratios, and the CPU time (all
 * threads of the process) per operation of each, which waiting for a busy core does not
 * inflate. A cross-check of the
 * benchmark's ratios on a busy machine, not a replacement for it.
 *
 *   npx tsx bench/crypto/interleaved.ts [rounds=9]
 */
import { libsignalClient } from './libsignal-client.ts';
import { petrel } from './petrel.ts';
import type { Pair, Side, Subject } from './subject.ts';

const rounds = Number(process.argv[2] ?? 9);
const SETUPS = 20;
const MESSAGES = 300;

/** CPU ms (all threads of this process) per operation, of the last measurement, by subject name. */
const cpuPerOp = new Map<string, number[]>();
function recordCpu(key: string, since: NodeJS.CpuUsage, ops: number): void {
  const c = process.cpuUsage(since);
  cpuPerOp.set(key, [...(cpuPerOp.get(key) ?? []), (c.user + c.system) / 1000 / ops]);
}

async function setupsPerSecond(subject: Subject): Promise<number> {
  const pairs: Pair[] = [];
  for (let i = 0; i < SETUPS; i++) pairs.push(await subject.createPair());
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of pairs) await p.setup();
  const rate = SETUPS / ((performance.now() - t0) / 1000);
  recordCpu(`${subject.name} setup`, c0, SETUPS);
  return rate;
}

async function pingPongPerSecond(subject: Subject): Promise<number> {
  const pair = await subject.createPair();
  await pair.setup();
  await pair.receive('alice', await pair.send('bob', new Uint8Array(100)));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const from: Side = i % 2 === 0 ? 'alice' : 'bob';
    await pair.receive(from === 'alice' ? 'bob' : 'alice', await pair.send(from, new Uint8Array(100)));
  }
  const rate = MESSAGES / ((performance.now() - t0) / 1000);
  recordCpu(`${subject.name} ping-pong`, c0, MESSAGES);
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await setupsPerSecond(petrel);
  await setupsPerSecond(libsignalClient);
  await pingPongPerSecond(petrel);
  await pingPongPerSecond(libsignalClient);
  cpuPerOp.clear();
  const ratios = { setup: [] as number[], pingPong: [] as number[] };
  const rates = { petrelSetup: [] as number[], libSetup: [] as number[], petrelPp: [] as number[], libPp: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first so neither always meets the same moment of a load change.
    const [p, l] = r % 2 === 0 ? [await setupsPerSecond(petrel), await setupsPerSecond(libsignalClient)] : (([l2, p2]) => [p2, l2])([await setupsPerSecond(libsignalClient), await setupsPerSecond(petrel)]);
    const [pp, lp] = r % 2 === 0 ? [await pingPongPerSecond(petrel), await pingPongPerSecond(libsignalClient)] : (([l2, p2]) => [p2, l2])([await pingPongPerSecond(libsignalClient), await pingPongPerSecond(petrel)]);
    rates.petrelSetup.push(p!); rates.libSetup.push(l!); rates.petrelPp.push(pp!); rates.libPp.push(lp!);
    ratios.setup.push(p! / l!);
    ratios.pingPong.push(pp! / lp!);
  }
  console.log(`setup: ${median(ratios.setup).toFixed(2)}× libsignal-client (median of ${rounds} rounds; rounds ${ratios.setup.map((x) => x.toFixed(2)).join(' ')}; medians ${median(rates.petrelSetup).toFixed(0)} vs ${median(rates.libSetup).toFixed(0)} setups/s)`);
  for (const k of ['setup', 'ping-pong']) {
    const ours = median(cpuPerOp.get(`petrel ${k}`)!);
    const theirs = median(cpuPerOp.get(`libsignal-client ${k}`)!);
    console.log(`${k} CPU time (all threads) per ${k === 'setup' ? 'setup' : 'message'}: petrel ${ours.toFixed(3)} ms, libsignal-client ${theirs.toFixed(3)} ms: ${(theirs / ours).toFixed(2)}× by CPU`);
  }
  console.log(`ping-pong: ${median(ratios.pingPong).toFixed(2)}× libsignal-client (rounds ${ratios.pingPong.map((x) => x.toFixed(2)).join(' ')}; medians ${median(rates.petrelPp).toFixed(0)} vs ${median(rates.libPp).toFixed(0)} msg/s)`);
}

await main();
