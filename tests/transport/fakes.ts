/** Test doubles for the transport layer: scriptable transports and envelope factories. */
import { destinationKey, type Envelope } from '../../src/core/transport/envelope.ts';
import { Listeners } from '../../src/core/transport/listeners.ts';
import {
  TransportSendError,
  type IncomingEnvelope,
  type Transport,
  type TransportFailureKind,
  type TransportName,
  type TransportStateChange,
} from '../../src/core/transport/transport.ts';

/** Lets pending promise callbacks run (a macrotask turn, not a timed sleep). */
export const flush = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

export function envelope(n: number, to = 1): Envelope {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(12, n);
  return { to: new Uint8Array(32).fill(to), id, body: new Uint8Array([n & 0xff, 1, 2, 3]) };
}

type Behaviour = (env: Envelope) => Promise<void>;

/** A transport whose outcome per send is scripted; records every envelope it is handed. */
export class FakeTransport implements Transport {
  readonly sent: Envelope[] = [];
  available = true;
  private readonly unavailableFor = new Set<string>();
  private readonly script: Behaviour[] = [];
  private readonly incoming = new Listeners<IncomingEnvelope>();
  private readonly states = new Listeners<TransportStateChange>();
  /** Used when the script is empty. */
  fallback: Behaviour = async () => {};

  constructor(readonly name: TransportName) {}

  isAvailable(destination: Uint8Array): boolean {
    return this.available && !this.unavailableFor.has(destinationKey(destination));
  }

  send(env: Envelope): Promise<void> {
    this.sent.push(env);
    const next = this.script.shift() ?? this.fallback;
    return next(env);
  }

  /** Queue outcomes for the next sends. */
  succeed(times = 1): this {
    for (let i = 0; i < times; i++) this.script.push(async () => {});
    return this;
  }

  fail(kind: TransportFailureKind = 'timeout', times = 1, code?: string): this {
    for (let i = 0; i < times; i++)
      this.script.push(async () => {
        throw new TransportSendError(kind, this.name, code);
      });
    return this;
  }

  /** The next send never settles (to exercise the router's own attempt timeout). */
  hang(): this {
    this.script.push(() => new Promise<void>(() => {}));
    return this;
  }

  alwaysFail(kind: TransportFailureKind = 'timeout'): this {
    this.fallback = async () => {
      throw new TransportSendError(kind, this.name);
    };
    return this;
  }

  setAvailable(available: boolean, destination?: Uint8Array): void {
    if (destination) {
      if (available) this.unavailableFor.delete(destinationKey(destination));
      else this.unavailableFor.add(destinationKey(destination));
    } else this.available = available;
    this.states.emit(destination ? { transport: this.name, destination, available } : { transport: this.name, available });
  }

  deliver(incoming: IncomingEnvelope): void {
    this.incoming.emit(incoming);
  }

  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void {
    return this.incoming.add(listener);
  }

  onStateChange(listener: (change: TransportStateChange) => void): () => void {
    return this.states.add(listener);
  }
}

/** Two in-memory peer channels wired to each other; messages arrive asynchronously, in order. */
export function pairedChannels(): [FakePeerChannel, FakePeerChannel] {
  const a = new FakePeerChannel();
  const b = new FakePeerChannel();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class FakePeerChannel {
  peer: FakePeerChannel | undefined;
  isOpen = true;
  readonly sentFrames: Uint8Array[] = [];
  /** When set, outgoing messages are silently lost. */
  blackhole = false;
  private readonly messages = new Listeners<Uint8Array>();
  private readonly closes = new Listeners<void>();

  send(bytes: Uint8Array): void {
    if (!this.isOpen) throw new Error('channel closed');
    this.sentFrames.push(bytes);
    if (this.blackhole) return;
    const peer = this.peer;
    const copy = bytes.slice();
    queueMicrotask(() => peer?.receive(copy));
  }

  receive(bytes: Uint8Array): void {
    if (this.isOpen) this.messages.emit(bytes);
  }

  onMessage(listener: (bytes: Uint8Array) => void): () => void {
    return this.messages.add(listener);
  }

  onClose(listener: () => void): () => void {
    return this.closes.add(listener);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.closes.emit();
    this.peer?.close();
  }
}
