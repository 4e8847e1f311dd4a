/**
 * The running core's check of stored session rows (session-cache.ts `SessionRowCheck`): a
 * session set whose bytes fail their integrity tag, or do not decode, is never used. The
 * caching store removes it and answers "no session"; here it is counted
 * (`storage.corrupt_state{what=session}`) and logged. What follows is session repair
 * (PROTOCOL.md §12.8): a send waits for a fresh session from the contact's bundle, and a
 * message the lost session would have opened is asked for again from its sender.
 */
import { CorruptStateError } from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { SessionRowCheck } from '../store/index.ts';
import { MalformedSessionSetError } from './errors.ts';
import { decodeSessionSet } from './session-set.ts';

export function sessionRowCheck(metrics: Metrics, log: Logger): SessionRowCheck {
  return {
    intact(state) {
      try {
        decodeSessionSet(state);
        return true;
      } catch (err) {
        if (err instanceof CorruptStateError || err instanceof MalformedSessionSetError) return false;
        throw err;
      }
    },
    discarded(contactId) {
      metrics.inc('storage.corrupt_state', { what: 'session' });
      log.error('stored session state is corrupt: removed, a fresh session will replace it', { contact: contactId.slice(0, 8) });
    },
  };
}
