/**
 * The elected tab's side of the core's Worker: starts it, feeds it what only a window
 * has (network signals, RTCPeerConnections over the bridge), and keeps it alive. The
 * tab's UI — and, through this tab's CoreHost, every other tab — reach the core through
 * `WorkerMessenger`, a client of the UI↔core protocol.
 *
 * Host loss: the worker holds a Web Lock while it lives; this tab waits for that lock,
 * so the browser tells it the moment the worker dies or is terminated. A new worker is
 * started at once (it opens the database again, well under a second), and every command
 * still unanswered is sent to it under its id. A worker that keeps dying (more than
 * `MAX_RESTARTS` in `RESTART_WINDOW_MS`) makes the core `failed`: this tab gives the
 * lock up (TabbedMessenger) so another tab may host.
 */
import type { Logger } from '../../core/log.ts';
import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import type { StorageHealth } from '../../core/store/storage-health.ts';
import { relayUrlFor } from '../relay-url.ts';
import type { LeaderCore } from '../tabbed-messenger.ts';
import { TEST_HANDLE, TEST_HOOKS_FLAG, TRACE_FLAG, type BrowserMessengerOptions, type PetrelTestHandle } from '../test-hooks.ts';
import { StageRecorder, type StageMark } from '../stage-recorder.ts';
import { browserNetworkSignals } from '../browser-network-signals.ts';
import { PeerConnectionHost } from './peer-connection-host.ts';
import type { RtcToWindow } from './rtc-bridge-messages.ts';
import type { FromWorker, HookName, ToWorker } from './worker-messages.ts';
import { WorkerMessenger } from './worker-messenger.ts';

export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;
/** How long a stopping worker may take to close its storage before it is terminated. */
const STOP_GRACE_MS = 3_000;

const LOADING: MessengerState = { phase: 'loading', connection: { kind: 'connecting' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

export interface WorkerCoreContext {
  readonly win: Window;
  readonly options: BrowserMessengerOptions;
  readonly logger: Logger;
  readonly health: StorageHealth;
  readonly profile: string;
  /** Makes the worker (a test may pass its own). */
  readonly createWorker?: () => Worker;
}

interface Generation {
  readonly worker: Worker;
  readonly rtc: PeerConnectionHost | undefined;
  dead: boolean;
}

const defaultWorker = () => new Worker(new URL('./core-worker.ts', import.meta.url), { type: 'module', name: 'petrel-core' });

export function bootWorkerCore(ctx: WorkerCoreContext): Promise<LeaderCore> {
  const { win, options, logger, health } = ctx;
  const log = logger.child('core-worker');
  const RTC = (win as unknown as { RTCPeerConnection?: typeof RTCPeerConnection }).RTCPeerConnection;
  const testHooks = (win as unknown as Record<string, unknown>)[TEST_HOOKS_FLAG] === true;
  // Timing marks for the e2e benchmark: this page's (commands out, patches in) and the worker's.
  const trace = testHooks && (win as unknown as Record<string, unknown>)[TRACE_FLAG] === true ? new StageRecorder() : undefined;
  let current: Generation | undefined;
  let stopping = false;
  let started = false;
  const deaths: number[] = [];
  const post = (m: ToWorker, transfer?: Transferable[]) => current?.worker.postMessage(m, transfer ?? []);

  const messenger = new WorkerMessenger({
    clientId: crypto.randomUUID(),
    postCommand: (m) => {
      trace?.mark('page.command');
      post({ k: 'cmd', m });
    },
    postOpen: (contactId) => post({ k: 'open', contactId }),
    postOlder: () => post({ k: 'older' }),
    askSnapshot: () => post({ k: 'snapshot' }),
    initial: LOADING,
  });
  const network = browserNetworkSignals(win);
  const unwatchNetwork = network.subscribe((signal) => post({ k: 'net', signal }));

  let hookId = 0;
  const hookAnswers = new Map<number, { resolve(value: number, marks?: readonly StageMark[]): void; reject(error: Error): void }>();
  const hook = (name: HookName, bytes?: Uint8Array) =>
    new Promise<number>((resolve, reject) => {
      const id = hookId++;
      hookAnswers.set(id, { resolve, reject });
      post({ k: 'hook', id, name, ...(bytes ? { bytes } : {}) });
    });
  const takeWorkerTrace = () =>
    new Promise<readonly StageMark[]>((resolve, reject) => {
      const id = hookId++;
      hookAnswers.set(id, { resolve: (_v, marks) => resolve(marks ?? []), reject });
      post({ k: 'hook', id, name: 'takeTrace' });
    });

  return new Promise<LeaderCore>((resolve, reject) => {
    const spawn = () => {
      const worker = (ctx.createWorker ?? defaultWorker)();
      const gen: Generation = { worker, rtc: RTC ? new PeerConnectionHost(RTC, (m, t) => gen.worker.postMessage(m, t ?? [])) : undefined, dead: false };
      current = gen;
      const lifeLock = `petrel:${ctx.profile}:core-worker:${crypto.randomUUID()}`;
      worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
        if (current !== gen) return;
        onMessage(gen, ev.data, lifeLock);
      });
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        log.error('core worker error', { error: ev.message || 'unknown' });
        if (!started) {
          worker.terminate();
          died(gen);
        }
      });
      worker.postMessage({
        k: 'init',
        origin: win.location.origin,
        relayUrl: relayUrlFor(win.location),
        online: win.navigator.onLine,
        rtc: gen.rtc !== undefined,
        ...(options.iceServers ? { iceServers: options.iceServers } : {}),
        ...(options.configProblems ? { configProblems: options.configProblems } : {}),
        testHooks,
        ...(trace ? { trace: true } : {}),
        lifeLock,
      } satisfies ToWorker);
    };

    const onMessage = (gen: Generation, m: FromWorker, lifeLock: string) => {
      switch (m.k) {
        case 'alive':
          // Granted only when the worker let go of it: it ended.
          void win.navigator.locks?.request(lifeLock, () => died(gen)).catch(() => undefined);
          return;
        case 'health':
          health.set(m.state);
          return;
        case 'ready':
          messenger.setState(m.state);
          if (!started) {
            started = true;
            resolve(core);
          } else {
            log.info('core worker restarted');
            messenger.workerRestarted();
          }
          return;
        case 'failed':
          gen.dead = true;
          gen.worker.terminate();
          if (!started) reject(new Error(m.error));
          else messenger.setState({ ...messenger.getState(), phase: 'failed' });
          return;
        case 'host':
          messenger.client.receive(m.m);
          return;
        case 'state':
          messenger.setState(m.state);
          return;
        case 'patch':
          messenger.applyPatch(m.patch);
          trace?.mark('page.patch');
          return;
        case 'hook':
          if (m.error !== undefined) hookAnswers.get(m.id)?.reject(new Error(m.error));
          else hookAnswers.get(m.id)?.resolve(m.value, m.marks);
          hookAnswers.delete(m.id);
          return;
        case 'stopped':
          return;
        default:
          gen.rtc?.receive(m as RtcToWindow);
      }
    };

    const died = (gen: Generation) => {
      if (gen.dead) return;
      gen.dead = true;
      gen.rtc?.reset();
      if (stopping || current !== gen) return;
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
      if (!started) return reject(new Error('the core worker ended while starting'));
      if (deaths.length > MAX_RESTARTS) {
        log.error('core worker keeps dying: giving the core up');
        messenger.setState({ ...messenger.getState(), phase: 'failed' });
        return;
      }
      log.warn('core worker ended: starting another');
      spawn();
    };

    const stop = async () => {
      if (stopping) return;
      stopping = true;
      unwatchNetwork();
      messenger.client.close();
      const gen = current;
      if (!gen || gen.dead) return;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, STOP_GRACE_MS);
        gen.worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
          if (ev.data.k === 'stopped') {
            clearTimeout(timer);
            done();
          }
        });
        gen.worker.postMessage({ k: 'stop' } satisfies ToWorker);
      });
      gen.dead = true;
      gen.worker.terminate();
      gen.rtc?.reset();
    };

    const core: LeaderCore = {
      api: messenger,
      readChat: (contactId, limit) => messenger.client.call('chatWindow', contactId, limit),
      stop,
    };

    if (testHooks) {
      (win as unknown as Record<string, unknown>)[TEST_HANDLE] = {
        pauseDirect: () => hook('pauseDirect').then(() => undefined),
        resumeDirect: () => hook('resumeDirect').then(() => undefined),
        dropDirect: () => hook('dropDirect').then(() => undefined),
        severDirect: () => hook('severDirect').then(() => undefined),
        healDirect: () => hook('healDirect').then(() => undefined),
        injectDirect: (bytes) => hook('injectDirect', bytes),
        state: () => messenger.getState(),
        diagnostics: () => messenger.client.call('diagnostics'),
        terminateWorker: () => {
          const gen = current;
          if (!gen || gen.dead || stopping) return Promise.resolve(false);
          gen.worker.terminate();
          // Where Web Locks are missing nothing else would notice.
          if (!win.navigator.locks) died(gen);
          return Promise.resolve(true);
        },
        takeTrace: async () => ({ worker: await takeWorkerTrace(), page: trace?.take() ?? [] }),
      } satisfies PetrelTestHandle;
    }
    spawn();
  });
}
