/**
 * A tab's side of the protocol when another tab hosts the core: commands get an id and
 * wait for their one answer; `resend` (called when a new host takes over) sends every
 * command still unanswered again under its id, so a command in flight when the host
 * went away is neither lost nor — the host's answers and the commands' idempotence see
 * to it — applied twice. Answers for other tabs and malformed messages are ignored.
 */
import { CoreProtocolError, PROTOCOL_VERSION, parseHostMessage, type ClientMessage, type CommandMap, type CommandName } from './protocol.ts';

export interface CoreClientDeps {
  readonly clientId: string;
  readonly post: (message: ClientMessage) => void;
}

interface Pending {
  readonly message: ClientMessage;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class CoreClient {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly changeListeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly deps: CoreClientDeps) {}

  call<N extends CommandName>(name: N, ...args: CommandMap[N]['args']): Promise<CommandMap[N]['result']> {
    if (this.closed) return Promise.reject(new CoreProtocolError('client_gone', 'this tab is closing'));
    const id = this.nextId++;
    const message: ClientMessage = { v: PROTOCOL_VERSION, t: 'cmd', client: this.deps.clientId, id, name, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { message, resolve: resolve as (v: unknown) => void, reject });
      this.deps.post(message);
    });
  }

  /** How many commands wait for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * A new host took over: every unanswered command again, oldest first, under its id
   * (to `post` when given: this tab's own host when this tab took over).
   */
  resend(post: (message: ClientMessage) => void = this.deps.post): void {
    for (const p of [...this.pending.values()]) post(p.message);
  }

  /** One message from the host. */
  receive(raw: unknown): void {
    const m = parseHostMessage(raw);
    if (!m) return;
    if (m.t === 'changed') {
      for (const l of this.changeListeners) l();
      return;
    }
    if (m.client !== this.deps.clientId) return;
    const p = this.pending.get(m.id);
    if (!p) return; // answered before (a resend's second answer)
    this.pending.delete(m.id);
    if (m.t === 'ok') p.resolve(m.value);
    else p.reject(new CoreProtocolError(m.error.kind, m.error.message));
  }

  /** The host says the core's state changed. */
  onChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** The tab is going away: tell the host, and fail what still waits. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.post({ v: PROTOCOL_VERSION, t: 'bye', client: this.deps.clientId });
    for (const p of this.pending.values()) p.reject(new CoreProtocolError('client_gone', 'this tab is closing'));
    this.pending.clear();
  }
}
