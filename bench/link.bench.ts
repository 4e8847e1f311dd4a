/**
 * Linking a device (issue 16 goal): the existing device holds 10,000 messages; the new
 * device takes the account over the real relay on loopback (in this process, embedded
 * SQLite), both cores in Node with memory stores. Timed from the new device's
 * `linkThisDevice` to its core running with the history shown (state `ready`, every
 * conversation listed). Everything goes through the relay's link channel (there is no
 * direct path for linking yet): the relayed bytes are read from the relay's metrics.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { toHex } from '../src/core/bytes.ts';
import { systemClock } from '../src/core/clock.ts';
import { generateIdentity } from '../src/core/crypto/identity.ts';
import { createLogger, RingLogSink } from '../src/core/log.ts';
import { InMemoryMetrics } from '../src/core/metrics.ts';
import { Messenger } from '../src/core/messenger/messenger.ts';
import { secureRandom } from '../src/core/random.ts';
import { createMemoryStore, type ImportedMessage, type PetrelStore } from '../src/core/store/index.ts';
import { WsRelayTransport, type RelaySocketConstructor } from '../src/platform/ws-relay-transport.ts';
import { startTestRelay } from '../tests/relay/helpers/relay-harness.ts';
import { scrape } from '../tests/relay/helpers/wait-for.ts';
import { row } from './stats.ts';
import type { BenchResult, Benchmark } from './types.ts';

const GOAL_SECONDS = 30;
const CONTACTS = 5;
const TEXT = 'a message of ordinary length, around sixty characters long.';

function core(relayUrl: string, store: PetrelStore): Messenger {
  const metrics = new InMemoryMetrics();
  const logs = new RingLogSink(200);
  const logger = createLogger(logs.sink, { level: 'warn' });
  return new Messenger({
    store,
    clock: systemClock,
    random: secureRandom,
    metrics,
    logger,
    recentLogs: () => logs.recent(),
    appUrl: 'http://petrel.bench/',
    relayUrl,
    createRelay: (auth) =>
      new WsRelayTransport({
        url: relayUrl,
        WebSocket: NodeWebSocket as unknown as RelaySocketConstructor,
        identityKey: auth.identityKey,
        sign: auth.sign,
        ingress: auth.ingress,
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
      }),
  });
}

function until(m: Messenger, ok: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ok()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = m.subscribe(() => {
      if (!ok()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Ada's history: CONTACTS conversations, `messages` in all, written as a linked history is. */
async function fillHistory(store: PetrelStore, messages: number): Promise<void> {
  const per = Math.ceil(messages / CONTACTS);
  let left = messages;
  for (let c = 0; c < CONTACTS && left > 0; c++) {
    const ik = generateIdentity(secureRandom).publicKey;
    const id = toHex(ik);
    await store.putContact({ id, displayName: `Contact ${c + 1}`, identityKey: ik, verification: 'unverified', addedAt: Date.now() });
    const n = Math.min(per, left);
    left -= n;
    for (let i = 0; i < n; i += 500) {
      const batch: ImportedMessage[] = [];
      for (let j = i; j < Math.min(n, i + 500); j++) {
        batch.push({ id: toHex(secureRandom.bytes(16)), direction: j % 2 ? 'in' : 'out', body: TEXT, sentAt: 1_700_000_000_000 + j, status: j % 2 ? 'delivered' : 'read' });
      }
      await store.importHistory(id, batch);
    }
  }
}

async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const messages = quick ? 200 : 10_000;
  const rounds = quick ? 1 : 3;
  const relay = await startTestRelay({ PETREL_LOG_LEVEL: 'silent' });
  const seconds: number[] = [];
  const relayedMiB: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const adaStore = createMemoryStore({ now: () => Date.now() });
      const ada = core(relay.url, adaStore);
      await ada.start();
      await ada.createIdentity('Ada');
      await until(ada, () => ada.getState().connection.kind === 'online', 'Ada online');
      await fillHistory(adaStore, messages);
      const before = await scrape(relay.http, /\npetrel_link_bytes_total (\d+)/);
      const link = await ada.createDeviceLink();

      const second = core(relay.url, createMemoryStore({ now: () => Date.now() }));
      await second.start();
      const t0 = performance.now();
      await second.linkThisDevice(link);
      await until(second, () => second.getState().phase === 'ready' && second.getState().contacts.length === CONTACTS, 'the history shown');
      seconds.push((performance.now() - t0) / 1000);
      relayedMiB.push(((await scrape(relay.http, /\npetrel_link_bytes_total (\d+)/)) - before) / 2 ** 20);
      await second.stop();
      await ada.stop();
    }
  } finally {
    await relay.stop();
  }
  const rows = [row('petrel', `link a device holding ${messages.toLocaleString('en')} messages`, 's', seconds), row('petrel', 'bytes relayed on the link channel', 'MiB', relayedMiB)];
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
  return {
    name: 'link',
    title: 'Linking a device with its history',
    rows,
    goals: [{ description: `Link a device holding 10,000 messages over loopback: new device usable (history shown) in ≤ ${GOAL_SECONDS} s`, met: !quick && median <= GOAL_SECONDS, measured: `${median.toFixed(2)} s (median of ${rounds}); 100% relayed, 0% direct` }],
    notes: [
      `Both cores in Node (memory stores), the relay in the same process on loopback with embedded SQLite; ${CONTACTS} conversations, ${messages.toLocaleString('en')} messages of ~60 characters. Timed from linkThisDevice to the new core running with every conversation listed: relay connect, join, request, the existing device's list signed and published, the export read page by page, sealed (AES-256-GCM per ≤ 64 KiB chunk), relayed, opened, decoded and written, then the identity and the core's start.`,
      'All of it relayed: the link channel is the relay (PROTOCOL.md §13.6); a direct WebRTC channel for linking is not built.',
    ],
  };
}

const benchmark: Benchmark = { name: 'link', title: 'Linking a device with its history', run };
export default benchmark;
