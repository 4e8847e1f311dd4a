/**
 * Every signed change a device holds for one group, and the one state they resolve to
 * (docs/PROTOCOL.md §16.4). Members may change the group at the same time without a
 * server ordering them; every member that holds the same changes computes the same state:
 *
 *   Starting from the `create`, at each version the next change is chosen among the held
 *   changes whose parent is the current head: those that take power away (remove, leave,
 *   demote) before the others, then the smallest id (bytewise); the first of them that
 *   applies (group-state.ts) is taken. The others are left out; an author whose change
 *   was left out sees it (`leftOut`) and issues it again on the new head if it still wants it.
 *
 * A change whose parent is not held yet waits in the log and counts once it arrives.
 * Verification before a change enters the log: the body decodes, it names this group, and
 * the author's identity signed it (Petrel's strict Ed25519 rule); otherwise a typed refusal
 * and the log is unchanged.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { WireError } from '../wire/wire-error.ts';
import type { StrictVerify } from '../wire/device-list.ts';
import { decodeGroupChangeBody, groupChangeId, groupChangeSignaturePayload, type GroupChangeBody, type SignedGroupChange } from '../wire/group-change.ts';
import { applyGroupChange, type GroupState } from './group-state.ts';

/** Most changes a log holds for one group (a long-lived, busy group's whole history fits). */
export const MAX_GROUP_LOG_CHANGES = 10_000;

export interface LoggedChange {
  readonly id: Uint8Array;
  readonly body: GroupChangeBody;
  readonly signed: SignedGroupChange;
}

export interface GroupLog {
  readonly group: Uint8Array;
  /** By id (hex). */
  readonly changes: ReadonlyMap<string, LoggedChange>;
}

export type GroupLogRefusal = 'malformed' | 'foreign_group' | 'bad_signature' | 'log_full';

export type LogVerdict = { readonly ok: true; readonly log: GroupLog; readonly added: boolean } | { readonly ok: false; readonly refusal: GroupLogRefusal; readonly detail: string };

export function emptyGroupLog(group: Uint8Array): GroupLog {
  return { group: group.slice(), changes: new Map() };
}

/** The log with `signed` in it (`added` false when it was already there), or why it is refused. */
export function addGroupChange(log: GroupLog, signed: SignedGroupChange, verify: StrictVerify): LogVerdict {
  let body: GroupChangeBody;
  try {
    body = decodeGroupChangeBody(signed.body);
  } catch (err) {
    return { ok: false, refusal: 'malformed', detail: err instanceof WireError ? err.message : 'undecodable group change' };
  }
  if (!bytesEqual(body.group, log.group)) return { ok: false, refusal: 'foreign_group', detail: 'the change names another group' };
  if (!verify(body.author, groupChangeSignaturePayload(signed.body), signed.sig)) return { ok: false, refusal: 'bad_signature', detail: 'the author did not sign this change' };
  const id = groupChangeId(signed.body);
  const key = toHex(id);
  if (log.changes.has(key)) return { ok: true, log, added: false };
  if (log.changes.size >= MAX_GROUP_LOG_CHANGES) return { ok: false, refusal: 'log_full', detail: `a group log holds at most ${MAX_GROUP_LOG_CHANGES} changes` };
  const changes = new Map(log.changes);
  changes.set(key, { id, body, signed: { body: signed.body.slice(), sig: signed.sig.slice() } });
  return { ok: true, log: { group: log.group, changes }, added: true };
}

export interface ResolvedGroup {
  /** Undefined until a valid `create` is held. */
  readonly state?: GroupState;
  /** Ids of the changes applied, in order. */
  readonly applied: readonly Uint8Array[];
  /** Held changes not on the chosen chain whose parent is on it: refused there or outrun by a sibling. */
  readonly leftOut: readonly LoggedChange[];
}

const REDUCTIONS = new Set(['remove', 'leave', 'demote']);

function compareCandidates(a: LoggedChange, b: LoggedChange): number {
  const pa = REDUCTIONS.has(a.body.op) ? 0 : 1;
  const pb = REDUCTIONS.has(b.body.op) ? 0 : 1;
  if (pa !== pb) return pa - pb;
  for (let i = 0; i < a.id.length; i++) if (a.id[i] !== b.id[i]) return a.id[i]! - b.id[i]!;
  return 0;
}

/** The state the log's changes resolve to (the rule in the file comment). */
export function resolveGroupLog(log: GroupLog): ResolvedGroup {
  const byParent = new Map<string, LoggedChange[]>();
  for (const c of log.changes.values()) {
    const key = toHex(c.body.parent);
    const list = byParent.get(key);
    if (list) list.push(c);
    else byParent.set(key, [c]);
  }
  const applied: Uint8Array[] = [];
  const leftOut: LoggedChange[] = [];
  let state: GroupState | undefined;
  let parentKey = toHex(new Uint8Array(32));
  for (;;) {
    const candidates = (byParent.get(parentKey) ?? []).slice().sort(compareCandidates);
    let chosen: LoggedChange | undefined;
    for (const c of candidates) {
      if (chosen) {
        leftOut.push(c);
        continue;
      }
      const verdict = applyGroupChange(state, c.body, c.id);
      if (verdict.ok) {
        chosen = c;
        state = verdict.state;
      } else leftOut.push(c);
    }
    if (!chosen) break;
    applied.push(chosen.id);
    parentKey = toHex(chosen.id);
  }
  return { ...(state ? { state } : {}), applied, leftOut };
}
