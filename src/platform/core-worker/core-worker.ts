/**
 * The core's Worker (started by the tab elected to host it; see worker-core.ts). Boots
 * the messaging core — IndexedDB, the relay's WebSocket, browser crypto, blobs over
 * fetch — and serves the UI↔core protocol to the hosting tab over its message port:
 * commands through a CoreHost, the core's state as a snapshot, then patches (at most one per task).
 * The direct path's RTCPeerConnections are the window's, over the bridge
 * (remote-peer-connection.ts); the network signals are the window's too.
 *
 * While it lives the worker holds a Web Lock named by the tab: when the worker dies or
 * is terminated the browser releases it, and the tab (waiting for that lock) restarts it.
 */
import { createLogger, RingLogSink } from '../../core/log.ts';
import { StorageHealth } from '../../core/store/storage-health.ts';
import type { NetworkSignal, NetworkSignals } from '../../core/transport/network-signals.ts';
import { bootCore, type BootedCore } from '../boot-core.ts';
import { CoreHost } from '../core-protocol/core-host.ts';
import type { ClientMessage } from '../core-protocol/protocol.ts';
import { diffState } from '../core-protocol/state-patch.ts';
import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import { RtcBridgeClient } from './remote-peer-connection.ts';
import { StageRecorder } from '../stage-recorder.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.ts';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
  readonly navigator: { readonly locks?: LockManager };
  close(): void;
}

const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer?: Transferable[]) => scope.postMessage(m, transfer);

let core: BootedCore | undefined;
let host: CoreHost | undefined;
let rtc: RtcBridgeClient | undefined;
/** The state the tab has (version `version` of the patches since the last whole state). */
let posted: MessengerState = { phase: 'loading', connection: { kind: 'connecting' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };
let version = 0;
/** Commands that came before the core was up, run when it is. */
const early: ClientMessage[] = [];
let online = true;
let testHooks = false;
/** Timing marks for the e2e benchmark, when the tab asked for them (init.trace). */
let trace: StageRecorder | undefined;
const networkListeners = new Set<(signal: NetworkSignal) => void>();
const network: NetworkSignals = {
  isOnline: () => online,
  subscribe(listener) {
    networkListeners.add(listener);
    return () => networkListeners.delete(listener);
  },
};

scope.addEventListener('message', (ev) => {
  const m = ev.data;
  switch (m.k) {
    case 'init':
      return void start(m);
    case 'cmd':
      if (host) host.receive(m.m);
      else early.push(m.m);
      return;
    case 'open':
      return void core?.api.openChat(m.contactId).catch(() => undefined);
    case 'older':
      return void core?.api.loadOlder().catch(() => undefined);
    case 'snapshot':
      if (!core) return;
      posted = core.api.getState();
      version = 0;
      return post({ k: 'state', state: posted });
    case 'net':
      if (m.signal === 'online') online = true;
      if (m.signal === 'offline') online = false;
      for (const l of networkListeners) l(m.signal);
      return;
    case 'hook':
      return hook(m);
    case 'stop':
      return void stop();
    default:
      if (m.k.startsWith('rtc-') || m.k.startsWith('dc-')) rtc?.receive(m as Parameters<RtcBridgeClient['receive']>[0]);
  }
});

async function start(init: WorkerInit): Promise<void> {
  online = init.online;
  testHooks = init.testHooks;
  if (init.trace) trace = new StageRecorder();
  // Held until the worker ends: its release tells the tab this worker is gone.
  await new Promise<void>((held) => {
    if (!scope.navigator.locks) return held();
    void scope.navigator.locks.request(init.lifeLock, () => {
      held();
      post({ k: 'alive' });
      return new Promise<never>(() => {});
    });
  });
  const logs = new RingLogSink(500);
  const logger = createLogger(logs.sink, { level: 'info' });
  for (const problem of init.configProblems ?? []) logger.child('config').warn('setting ignored', { problem });
  const health = new StorageHealth();
  const unwatch = health.subscribe((state) => post({ k: 'health', state }));
  if (init.rtc) rtc = new RtcBridgeClient((m, transfer) => post(m, transfer));
  try {
    core = await bootCore({
      origin: init.origin,
      relayUrl: init.relayUrl,
      RTCPeerConnection: rtc?.RTCPeerConnection,
      iceServers: init.iceServers,
      network,
      logger,
      logs,
      health,
      trace,
    });
  } catch (err) {
    post({ k: 'failed', error: err instanceof Error ? err.name : 'unknown' });
    return;
  } finally {
    unwatch();
  }
  const booted = core;
  host = new CoreHost({ core: booted.api, readChat: booted.readChat!, post: (m) => post({ k: 'host', m }), logger });
  // The state as patches (state-patch.ts), at most one per task: a catch-up changes it many
  // times a second, and a status move changes one row of the chat, not the whole window.
  let queued = false;
  booted.api.subscribe(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      const next = booted.api.getState();
      const patch = diffState(posted, next, version);
      if (!patch) return;
      trace?.mark('worker.patch');
      post({ k: 'patch', patch });
      posted = next;
      version++;
    }, 0);
  });
  posted = booted.api.getState();
  version = 0;
  post({ k: 'ready', state: posted });
  for (const m of early.splice(0)) host.receive(m);
}

function hook(m: Extract<ToWorker, { k: 'hook' }>): void {
  if (m.name === 'takeTrace') return post({ k: 'hook', id: m.id, value: 0, marks: testHooks ? (trace?.take() ?? []) : [] });
  const direct = testHooks ? core?.direct() : undefined;
  let value = 0;
  try {
    if (m.name === 'pauseDirect') direct?.pause();
    else if (m.name === 'resumeDirect') direct?.resume();
    else if (m.name === 'dropDirect') direct?.dropChannels();
    else if (m.name === 'severDirect') direct?.sever();
    else if (m.name === 'healDirect') direct?.heal();
    else if (m.name === 'injectDirect' && m.bytes) value = direct?.inject(m.bytes) ?? 0;
  } catch (err) {
    // The hook's own failure (e.g. a frame the channel refuses) goes back to the test.
    post({ k: 'hook', id: m.id, value, error: err instanceof Error ? err.message : 'failed' });
    return;
  }
  post({ k: 'hook', id: m.id, value });
}

async function stop(): Promise<void> {
  host?.stop();
  host = undefined;
  try {
    await core?.stop();
  } finally {
    core = undefined;
    post({ k: 'stopped' });
    scope.close();
  }
}
