import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame, type Envelope, type RelayFrame } from '../../../src/core/wire/index.ts';
import { newIdentity, type TestIdentity } from './identity.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** An envelope this peer sent, and whether the relay answered `sent`. */
interface Outgoing {
  readonly env: Envelope;
  readonly to: string;
  acked: boolean;
  onWire: boolean;
  /** How often it was put on the wire (more than once after a connection died before its `sent`). */
  sends: number;
}

/**
 * A person's device reduced to what the relay sees: an outbox resent in order until each
 * envelope is answered `sent` (on whichever node it reaches after a connection died) and
 * an inbox that acks every delivery and keeps the first arrival of each id, as the real
 * client does. It records what a chaos test judges: acknowledged, delivered, order,
 * duplicates on one connection, redeliveries across connections.
 */
export class ChaosPeer {
  readonly id: TestIdentity = newIdentity();
  readonly outbox: Outgoing[] = [];
  /** Ids in the order they first arrived. */
  readonly inbox: string[] = [];
  private readonly seen = new Set<string>();
  /**
   * Ids pushed twice on one connection. The relay does this only for an envelope deposited
   * twice: its sender resent it (no `sent` came back) after the recipient had already
   * acknowledged, and so deleted, the first copy. The inbox drops it by id, as the client does.
   */
  readonly repeatedOnOneConnection: string[] = [];
  /** An id delivered again on a later connection (allowed: its ack may not have committed). */
  redeliveries = 0;
  /** Deposits answered with an error instead of `sent` (resent; their order is then no longer guaranteed). */
  refusals = 0;
  private ws: WebSocket | undefined;
  private ready = false;
  private connSeen = new Set<string>();
  private rids = new Map<number, Outgoing>();
  private nextRid = 1;
  private stopped = false;
  private nodeIndex: number;

  constructor(
    readonly name: string,
    private readonly urls: () => readonly string[],
    firstNode: number,
    private readonly window = 16,
  ) {
    this.nodeIndex = firstNode;
  }

  get mailbox(): string {
    return hex(this.id.mailbox);
  }

  /** Queues `count` envelopes to `to` (sent in order, resent until acknowledged). */
  queue(to: ChaosPeer, count: number): void {
    for (let i = 0; i < count; i++) this.outbox.push({ env: { to: to.id.mailbox, id: new Uint8Array(randomBytes(16)), body: new Uint8Array(randomBytes(200)) }, to: to.name, acked: false, onWire: false, sends: 0 });
    this.pump();
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  get allAcked(): boolean {
    return this.outbox.every((o) => o.acked);
  }

  /** Whether every envelope this peer sent to `recipient` has arrived there. */
  deliveredTo(recipient: ChaosPeer): boolean {
    return this.outbox.every((o) => o.to !== recipient.name || recipient.seen.has(hex(o.env.id)));
  }

  /** How often the envelope `id` went on the wire, or 0 if this peer did not send it. */
  sendsOf(id: string): number {
    return this.outbox.find((o) => hex(o.env.id) === id)?.sends ?? 0;
  }

  /** Ids this peer sent to `recipient`, in sending order. */
  sentTo(recipient: ChaosPeer): string[] {
    return this.outbox.filter((o) => o.to === recipient.name).map((o) => hex(o.env.id));
  }

  private connect(): void {
    if (this.stopped) return;
    const urls = this.urls();
    const url = urls[this.nodeIndex % urls.length]!;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws = ws;
    this.ready = false;
    this.connSeen = new Set();
    this.rids.clear();
    for (const o of this.outbox) o.onWire = false;
    ws.on('message', (data: Buffer) => this.onFrame(ws, decodeFrame(new Uint8Array(data), { from: 'relay' }) as RelayFrame));
    ws.on('error', () => {});
    ws.once('close', () => {
      if (this.ws !== ws || this.stopped) return;
      this.ready = false;
      // Reconnect to the next node (a load balancer would do the same), after a short pause.
      this.nodeIndex++;
      setTimeout(() => this.connect(), 50);
    });
  }

  private onFrame(ws: WebSocket, f: RelayFrame): void {
    switch (f.t) {
      case 'challenge':
        ws.send(encodeFrame({ t: 'auth', ik: this.id.ik, sig: this.id.signAuth(f.nonce) }));
        return;
      case 'ready':
        this.ready = true;
        this.pump();
        return;
      case 'sent': {
        const o = this.rids.get(f.rid);
        this.rids.delete(f.rid);
        if (o) {
          o.acked = true;
          o.onWire = false;
        }
        this.pump();
        return;
      }
      case 'deliver': {
        const k = hex(f.env.id);
        if (this.connSeen.has(k)) this.repeatedOnOneConnection.push(k);
        this.connSeen.add(k);
        if (this.seen.has(k)) this.redeliveries++;
        else {
          this.seen.add(k);
          this.inbox.push(k);
        }
        ws.send(encodeFrame({ t: 'ack', ids: [f.env.id] }));
        return;
      }
      case 'error': {
        // A refused deposit (database down, node draining) was not accepted: send it again soon.
        if (f.rid !== undefined) {
          this.refusals++;
          const o = this.rids.get(f.rid);
          this.rids.delete(f.rid);
          if (o) o.onWire = false;
          setTimeout(() => this.pump(), 100);
        }
        return;
      }
      default:
        return;
    }
  }

  private pump(): void {
    const ws = this.ws;
    if (!ws || !this.ready || ws.readyState !== ws.OPEN) return;
    let inflight = this.rids.size;
    for (const o of this.outbox) {
      if (inflight >= this.window) break;
      if (o.acked || o.onWire) continue;
      const rid = this.nextRid++;
      this.rids.set(rid, o);
      o.onWire = true;
      o.sends++;
      inflight++;
      ws.send(encodeFrame({ t: 'send', rid, env: o.env }));
    }
  }
}
