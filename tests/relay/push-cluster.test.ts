import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { newIdentity, randomEnvelope, type TestIdentity } from './helpers/identity.ts';
import { startLoopbackPushService, type LoopbackPushService } from './helpers/push-service.ts';
import type { TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

// Web Push across two relay nodes on one PostgreSQL and one Redis: one VAPID pair for the
// cluster, a device connected to ANY node is not pushed to, and the 10 s collapse holds
// across nodes (the rate-limit store is Redis).

let cluster: TestCluster;
let a: TestRelay;
let b: TestRelay;
let service: LoopbackPushService;
beforeAll(async () => {
  service = await startLoopbackPushService();
  cluster = await startTestCluster(2, { PETREL_PUSH_ALLOW_LOOPBACK: 'true' });
  [a, b] = cluster.nodes as [TestRelay, TestRelay];
});
afterAll(async () => {
  await cluster.stop();
  await service.close();
});

const key = async (node: TestRelay) => ((await (await fetch(`${node.http}/push/key`)).json()) as { publicKey: string }).publicKey;

async function depositVia(node: TestRelay, to: TestIdentity, rid: number): Promise<void> {
  const sender = await TestClient.connect(node.url);
  sender.send({ t: 'send', rid, env: randomEnvelope(to.mailbox) });
  expect((await sender.reply(rid, 10_000)).t).toBe('sent');
  sender.close();
  await node.relay.push.settled();
}

describe('Web Push in a cluster', () => {
  it('every node signs with the one VAPID key pair stored in PostgreSQL', async () => {
    expect(await key(a)).toBe(await key(b));
  });

  it('does not push to a device connected to another node, pushes once it is gone, collapsed across nodes', async () => {
    const bob = newIdentity();
    const sub = service.subscribe();
    const onB = await TestClient.authenticated(b.url, bob);
    onB.send({ t: 'push.register', rid: 1, endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth });
    expect(await onB.reply(1)).toEqual({ t: 'push.registered', rid: 1 });
    const mine = () => service.received.filter((p) => sub.endpoint.endsWith(p.path)).length;

    await depositVia(a, bob, 2);
    await onB.next('deliver', undefined, 10_000);
    expect(mine()).toBe(0);

    onB.close();
    await waitFor(() => scrape(b.http, /^petrel_relay_state_entries\{map="mailbox_bindings"\} (\d+)$/m), (n) => n === 0, 'node b to drop the binding');
    await depositVia(a, bob, 3);
    await service.waitFor(1);
    expect(mine()).toBe(1);
    // Node b deposits within the same 10 s: the window is shared, so no second push.
    await depositVia(b, bob, 4);
    expect(mine()).toBe(1);
  });
});
