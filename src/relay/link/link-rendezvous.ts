import type { Connection } from '../ws/connection.ts';

/** Why a link operation was refused (each answered as a typed error frame and counted). */
export type LinkRefusal = 'busy' | 'not_found' | 'too_many_channels' | 'over_budget' | 'not_member' | 'no_peer' | 'expired' | 'unavailable';

/** Answers one link operation: no refusal means it was done (the channel held or joined, the data relayed). */
export type LinkAnswer = (refusal?: LinkRefusal) => void;

/**
 * Where device-link channels meet (docs/PROTOCOL.md §13.6): on this node only
 * (`LinkChannels`, one relay) or across the nodes of a cluster (`RedisLinkChannels`).
 * Each operation answers through its callback, once, and never throws; nothing about the
 * channel reaches `conn` before the answer (so the handler's `link.opened` / `link.joined`
 * goes first).
 */
export interface LinkRendezvous {
  /** Channels with an end on this node. */
  readonly size: number;
  open(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void;
  join(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void;
  /** Sends `data` to the other end of `ch`, counted against the channel's budget. */
  relay(from: Connection, ch: Uint8Array, data: Uint8Array, answer: LinkAnswer): void;
  /** A connection closed: every channel it held or joined ends, and the other ends are told. */
  drop(conn: Connection): void;
  /** Ends expired channels (the relay's sweep). Returns how many ended here. */
  expire(): number;
  close(): Promise<void>;
}

/** What a rendezvous tells the relay. */
export interface LinkHooks {
  /** Tells a connection its channel ended (and counts it). */
  readonly closed: (conn: Connection, ch: Uint8Array) => void;
  /** A sender's reading was paused because its peer reads slower (counts it). */
  readonly readsPaused: () => void;
}
