/**
 * Everything the messenger's pipelines share once an identity exists. Passed in, never
 * global: the same pipelines run in the browser and in Node tests.
 */
import type { Clock } from '../clock.ts';
import type { CryptoRuntime, Identity, PreKeyPool } from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import type { DeviceRouting } from './device-routing.ts';
import type { SerialLane } from './serial-lane.ts';
import type { StageTrace } from '../stage-trace.ts';

export interface MessengerContext {
  readonly store: PetrelStore;
  readonly clock: Clock;
  readonly random: Random;
  /** The crypto core's runtime (X25519 engine, AEAD threshold); lives as long as this context. */
  readonly crypto: CryptoRuntime;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Every read-modify-write of sessions or the prekey pool runs on this lane. */
  readonly lane: SerialLane;
  readonly identity: Identity;
  readonly contacts: ContactDirectory;
  /** Our prekey pool as last committed (replaced after each commit that changes it). */
  pool: PreKeyPool;
  /** Linked devices (docs/PROTOCOL.md §13.5): fan-out targets and known devices; absent: one copy to each contact's account mailbox. */
  readonly devices?: DeviceRouting;
  /** Timing marks for the e2e benchmark's stage breakdown (stage-trace.ts); absent in normal use. */
  readonly trace?: StageTrace;
}
