/**
 * Test-only stand-in for the link flow (not built yet): a second device of an account made
 * from the same identity seed, and the account's signed device list published to the relay
 * over a connection authenticated by that identity. Lives in tests/, never in src/.
 */
import { vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { systemClock } from '../../src/core/clock.ts';
import { identityFromSeed, type Identity } from '../../src/core/crypto/identity.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { createOwnDevice, decodeOwnDevice, type OwnDevice } from '../../src/core/devices/own-device.ts';
import { silentLogger } from '../../src/core/log.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { secureRandom } from '../../src/core/random.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import type { DeviceEntry, SignedDeviceList } from '../../src/core/wire/index.ts';
import { WsRelayTransport, type RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';

/** The account identity and this device's record, as a running messenger stored them. */
export async function storedAccount(store: PetrelStore): Promise<{ identity: Identity; device: OwnDevice }> {
  const record = await store.loadIdentity();
  if (!record) throw new Error('no identity in this store');
  const identity = identityFromSeed(record.seed);
  const stored = await store.getMeta(META_OWN_DEVICE);
  if (!(stored instanceof Uint8Array)) throw new Error('no device record in this store');
  return { identity, device: decodeOwnDevice(stored, identity) };
}

/** A further device of `identity` (what linking would create on the new browser). */
export function extraDevice(identity: Identity): OwnDevice {
  return createOwnDevice(identity, secureRandom);
}

/** A connection authenticated by `identity` (IK), online; the caller stops it. */
export async function connectAs(relayUrl: string, identity: Identity): Promise<WsRelayTransport> {
  const t = new WsRelayTransport({
    url: relayUrl,
    WebSocket: NodeWebSocket as unknown as RelaySocketConstructor,
    identityKey: identity.publicKey,
    sign: async (p) => identity.sign(p),
    clock: systemClock,
    random: secureRandom,
    metrics: new InMemoryMetrics(),
    logger: silentLogger,
  });
  t.start();
  await vi.waitFor(() => {
    if (t.state.kind !== 'online') throw new Error('not online yet');
  }, { timeout: 5_000, interval: 5 });
  return t;
}

/** Publishes `devices` as `identity`'s list at `version`, over its own short-lived connection. */
export async function publishDeviceList(relayUrl: string, identity: Identity, version: number, devices: readonly DeviceEntry[]): Promise<SignedDeviceList> {
  const t = new WsRelayTransport({
    url: relayUrl,
    WebSocket: NodeWebSocket as unknown as RelaySocketConstructor,
    identityKey: identity.publicKey,
    sign: async (p) => identity.sign(p),
    clock: systemClock,
    random: secureRandom,
    metrics: new InMemoryMetrics(),
    logger: silentLogger,
  });
  t.start();
  try {
    await vi.waitFor(() => {
      if (t.state.kind !== 'online') throw new Error('not online yet');
    }, { timeout: 5_000, interval: 5 });
    const signed = signDeviceList(identity, { version, issuedAt: Date.now(), devices });
    await t.publishDeviceList(signed);
    return signed;
  } finally {
    t.stop();
  }
}
