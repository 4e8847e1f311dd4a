/**
 * The in-memory RTCPeerConnection double (fake-webrtc.ts) behind the real Worker ↔ window
 * bridge (RtcBridgeClient / PeerConnectionHost), every message structured-cloned and
 * delivered in a later task as postMessage does: the direct path then sees what it sees in
 * the browser — state that is the window's last report, events and call results that
 * arrive a task late and interleave with signals.
 */
import { PeerConnectionHost } from '../../src/platform/core-worker/peer-connection-host.ts';
import { RtcBridgeClient } from '../../src/platform/core-worker/remote-peer-connection.ts';
import type { PeerConnectionConstructor } from '../../src/platform/webrtc/webrtc-connector.ts';
import { FakePeerConnection } from './fake-webrtc.ts';

/** A peer-connection constructor for one device's worker, bridged to its own window. */
export function bridgedFakePeerConnection(): PeerConnectionConstructor {
  let host: PeerConnectionHost | undefined = undefined;
  const client = new RtcBridgeClient((m) => {
    const copy = structuredClone(m);
    setTimeout(() => host!.receive(copy), 0);
  });
  host = new PeerConnectionHost(FakePeerConnection as unknown as typeof RTCPeerConnection, (m) => {
    const copy = structuredClone(m);
    setTimeout(() => client.receive(copy), 0);
  });
  return client.RTCPeerConnection;
}
