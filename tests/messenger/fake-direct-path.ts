/**
 * The WebRTC direct path over the in-memory RTCPeerConnection double, as a device's
 * `createDirect` (harness.ts), with short retry and connect times for tests. `created`
 * receives the path once the core makes it.
 */
import { systemClock } from '../../src/core/clock.ts';
import { secureRandom } from '../../src/core/random.ts';
import { WebRtcDirectPath } from '../../src/platform/webrtc/webrtc-direct-path.ts';
import { FakePeerConnection } from '../transport/fake-webrtc.ts';
import type { DeviceOptions } from './harness.ts';

export function fakeDirectPath(created: (direct: WebRtcDirectPath) => void, fast: { ackTimeoutMs?: number } = {}): NonNullable<DeviceOptions['createDirect']> {
  return ({ metrics, logger }) =>
    ({ identity, ownMailbox, sendSignal, ingress }) => {
      const direct = new WebRtcDirectPath({
        RTCPeerConnection: FakePeerConnection,
        identityKey: identity.publicKey,
        ownMailbox,
        sendSignal,
        ingress,
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
        retryBackoff: { baseMs: 20, capMs: 100 },
        connectTimeoutMs: 1_000,
        ...fast,
      });
      created(direct);
      return direct;
    };
}
