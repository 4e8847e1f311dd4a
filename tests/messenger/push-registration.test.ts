import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { PushRegistration, type PushRelay, type PushSubscriptionKeys } from '../../src/core/messenger/push-registration.ts';
import type { RelayConnectionState } from '../../src/core/transport/index.ts';
import { PushRegistrationRefusedError } from '../../src/core/messenger/errors.ts';
import { toWireError } from '../../src/platform/core-protocol/protocol.ts';

class RecordingRelay implements PushRelay {
  state: RelayConnectionState = { kind: 'offline' };
  readonly calls: (PushSubscriptionKeys | null)[] = [];
  refuse: Error | undefined;
  async registerPush(sub: PushSubscriptionKeys): Promise<void> {
    if (this.refuse) throw this.refuse;
    this.calls.push(sub);
  }
  async unregisterPush(): Promise<void> {
    this.calls.push(null);
  }
}

const sub = (n: number): PushSubscriptionKeys => ({ endpoint: `https://push.example.org/${n}`, p256dh: new Uint8Array(65).fill(4), auth: new Uint8Array(16).fill(n) });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('PushRegistration: the device keeps its push subscription on the relay', () => {
  it('is pending while offline and registers the LAST subscription asked for once online, again on every new connection', async () => {
    const reg = new PushRegistration(silentLogger);
    const relay = new RecordingRelay();
    expect(await reg.set(sub(1))).toBe('pending');
    reg.attach(relay);
    expect(await reg.set(sub(2))).toBe('pending');
    expect(relay.calls).toEqual([]);
    relay.state = { kind: 'online' };
    reg.online();
    await settle();
    expect(relay.calls).toEqual([sub(2)]);
    reg.online();
    await settle();
    expect(relay.calls).toEqual([sub(2), sub(2)]);
  });

  it('registers at once when online, and null removes it', async () => {
    const reg = new PushRegistration(silentLogger);
    const relay = new RecordingRelay();
    relay.state = { kind: 'online' };
    reg.attach(relay);
    expect(await reg.set(sub(3))).toBe('registered');
    expect(await reg.set(null)).toBe('registered');
    expect(relay.calls).toEqual([sub(3), null]);
  });

  it('passes on the relay refusal and does nothing on a connection before anything was asked', async () => {
    const reg = new PushRegistration(silentLogger);
    const relay = new RecordingRelay();
    relay.state = { kind: 'online' };
    reg.attach(relay);
    reg.online();
    await settle();
    expect(relay.calls).toEqual([]);
    // As the WebSocket transport reports it (RelayRequestError carries the relay's `code`).
    relay.refuse = Object.assign(new Error('push subscription refused: the endpoint must be an https: URL'), { code: 'bad_push_subscription' });
    const refused = await reg.set(sub(4)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PushRegistrationRefusedError);
    expect(refused).toMatchObject({ kind: 'push_refused', reason: 'bad_push_subscription' });
    // It crosses the tab protocol as that kind, not as `internal`.
    expect(toWireError(refused)).toEqual({ kind: 'push_refused', message: 'the relay did not take the push subscription (bad_push_subscription)' });
  });
});
