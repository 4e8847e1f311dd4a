import type { SendMultiFrame } from '../../../core/wire/index.ts';
import type { Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';
import { mailboxKey } from '../session-registry.ts';
import { depositBudget } from './deposit.ts';

/**
 * `send.multi{rid, id, to[], body}`: one body for up to MAX_MULTI_RECIPIENTS mailboxes (a
 * group message, the same ciphertext for every member device). Anonymous like `send`. The
 * budgets charge one deposit and the body's bytes once per mailbox (what it costs to
 * store). Every envelope (mailbox, id, body) is written in ONE transaction, and only then
 * answered `sent.multi{rid, id, full, unlinked}`: every mailbox not listed holds it. A
 * mailbox named twice is refused as `malformed` before anything is stored. The relay
 * learns that these mailboxes get the same message (docs/PROTOCOL.md §17.5).
 */
export async function handleSendMulti(ctx: RelayContext, conn: Connection, frame: SendMultiFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('send.multi');
  // The mailboxes' map keys, made once: the duplicate check and the hand-over to this node's connections both use them.
  const keys = frame.to.map(mailboxKey);
  if (keys.length === 0 || new Set(keys).size !== keys.length) {
    ctx.metrics.rejectedFrames.inc({ reason: 'multi_recipients' });
    ctx.sendError(conn, 'malformed', 'send.multi names at least one mailbox, each once', frame.rid);
    return;
  }
  const previous = conn.depositTurn;
  let endTurn!: () => void;
  conn.depositTurn = new Promise<void>((resolve) => (endTurn = resolve));
  const envs = frame.to.map((to) => ({ to, id: frame.id, body: frame.body }));
  let stored;
  try {
    const refused = await depositBudget(ctx, conn, frame.body.length * frame.to.length);
    await previous;
    if (refused) {
      if (refused.startsWith('conn')) ctx.metrics.rateLimited.inc({ bucket: refused });
      ctx.sendError(conn, 'rate_limited', 'too many deposits', frame.rid);
      return;
    }
    stored = ctx.batcher.depositAll(envs);
  } finally {
    endTurn();
  }
  conn.inflight++;
  try {
    const outcomes = await stored;
    const full: Uint8Array[] = [];
    const unlinked: Uint8Array[] = [];
    // Side by side: in a cluster each is a Redis PUBLISH, and one after another they made a
    // 100-member message wait for 100 round trips before `sent.multi`. Counted once per
    // result rather than once per recipient.
    const announced: Array<Promise<boolean> | undefined> = new Array(envs.length);
    let storageFull = false;
    let newly = 0;
    let duplicates = 0;
    for (let i = 0; i < envs.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        if (outcome.duplicate) duplicates++;
        else newly++;
        announced[i] = ctx.fanout.announce(envs[i]!, outcome.seq, outcome.prev, outcome.duplicate);
        continue;
      }
      ctx.metrics.deposits.inc({ result: outcome.reason });
      if (outcome.reason === 'storage_full') storageFull = true;
      else if (outcome.reason === 'device_unlinked') unlinked.push(envs[i]!.to);
      else full.push(envs[i]!.to);
    }
    if (newly) ctx.metrics.deposits.inc({ result: 'stored' }, newly);
    if (duplicates) ctx.metrics.deposits.inc({ result: 'duplicate' }, duplicates);
    const elsewhere = await Promise.all(announced);
    // The relay's global cap: some mailboxes may hold it and some not; a retry of the same frame stores the rest once.
    if (storageFull) ctx.sendError(conn, 'overloaded', 'relay storage is full; retry later', frame.rid);
    else conn.send({ t: 'sent.multi', rid: frame.rid, id: frame.id, full, unlinked });
    timed();
    // As announceStored's second half, for each new envelope: to this node's connections, or
    // (no connection of it anywhere) woken by Web Push, all the sleeping ones in one look-up.
    if (newly) ctx.metrics.queueDepth.inc(newly);
    const asleep: Uint8Array[] = [];
    for (let i = 0; i < envs.length; i++) {
      const outcome = outcomes[i]!;
      if (!outcome.ok || outcome.duplicate) continue;
      ctx.fanout.deposited(envs[i]!, outcome.seq, outcome.prev, keys[i]);
      if (!elsewhere[i] && !ctx.fanout.hasLocalOwner(envs[i]!.to, keys[i])) asleep.push(envs[i]!.to);
    }
    ctx.push.wakeAll(asleep);
  } catch (err) {
    ctx.log.error({ conn: conn.id, err: err instanceof Error ? err.message : String(err) }, 'multi deposit failed');
    ctx.sendError(conn, 'internal', 'could not store the envelopes', frame.rid);
  } finally {
    conn.inflight--;
  }
}
