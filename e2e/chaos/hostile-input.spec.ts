/**
 * Scenario 8, hostile input, in two runs per seed.
 *
 * At the relay: while Alice and Bob chat, a raw WebSocket
 * client speaks to the relay with malformed, oversized, wrongly versioned, unknown-type,
 * text frames, an ack without authentication and a forged auth (each refused with its error code
 * and counted), then — authenticated as a stranger — replays every envelope Alice sent
 * Bob (captured off Alice's WebSocket) and deposits a tampered copy with a fresh id.
 * The relay cannot tell them apart (they are opaque); Bob must: replays are dropped by
 * id, the tampered box is refused and counted as `crypto.failure`, nothing is shown
 * twice, and the conversation continues.
 *
 * Over the data channel (`data channel`): while Alice and Bob talk directly, Alice's side
 * puts raw bytes on the open channel (test hook `injectDirect`): malformed CBOR, a frame
 * over the size limit, a replay of an envelope Bob already has (captured off Alice's
 * data channel) and a tampered copy with a fresh id. Bob refuses each with its typed,
 * counted error (`packet.validation.failure{reason}`, `packet.replay{transport}`,
 * `crypto.failure`), shows nothing twice, and the conversation continues on the channel.
 */
import { expect, type Page } from '@playwright/test';
import { Encoder } from 'cbor-x';
import { decodeFrame, encodeFrame, MAX_ENVELOPE_BODY_BYTES, MAX_FRAME_BYTES, type Envelope } from '../../src/core/wire/index.ts';
import { newIdentity } from '../../tests/relay/helpers/identity.ts';
import { TestClient } from '../../tests/relay/helpers/test-client.ts';
import { body, pair, send, type ChaosUser } from './support/app.ts';
import { assertInvariants, cryptoFailures, settle, stillChatting, storedMessages } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const BEFORE = 10;
/**
 * Plain CBOR maps with keys written in canonical order (shorter first, then bytewise:
 * t, v, rid), as the wire codec writes them, so only the field under test is wrong.
 */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, pack: false, structuredClone: false, bundleStrings: false });
const encode = (value: unknown) => cbor.encode(value);
const AFTER = 20;

/** Envelopes `page` deposits at the relay, decoded off its WebSocket. */
function captureDeposits(page: Page, seen: string[]): Envelope[] {
  const captured: Envelope[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      if (typeof payload === 'string') return void seen.push('text');
      try {
        const frame = decodeFrame(new Uint8Array(payload), { from: 'client' });
        seen.push(frame.t);
        if (frame.t === 'send') captured.push(frame.env);
      } catch (err) {
        seen.push(`undecodable(${payload.length}): ${String(err)}`);
      }
    }),
  );
  return captured;
}

async function errorCount(relay: ChaosRelay, code: string): Promise<number> {
  return relay.metric(new RegExp(`^petrel_errors_sent_total\\{code="${code}"\\} (\\d+)`, 'm'));
}

/** Opens a connection, lets `act` misbehave, and returns the error code the relay answered with. */
async function refusal(url: string, act: (c: TestClient) => Promise<void> | void): Promise<string> {
  const c = await TestClient.connect(url);
  try {
    await act(c);
    const error = await c.next('error');
    return error.code;
  } finally {
    c.close();
  }
}

scenario(8, 'hostile input', 'e2e/chaos/hostile-input.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  const framesSeen: string[] = [];
  const deposits = captureDeposits(alice.page, framesSeen);
  // Capture only works on sockets opened after the listener: make Alice reconnect.
  await alice.page.reload();
  await alice.page.getByRole('button', { name: /^Bob/ }).first().click();

  const tag = `hostile${schedule.int(0, 9999)}`;
  const started = Date.now();
  for (let i = 0; i < BEFORE; i++) await send(alice.page, body(tag, alice.name, i));
  const first = await settle([{ from: alice, to: bob, tag, count: BEFORE }], started);
  expect(first).toMatchObject({ lost: 0, unconfirmed: 0 });
  expect(deposits.length, `envelopes captured off Alice's socket (frames: ${framesSeen.join(',')})`).toBeGreaterThan(0);

  const url = `ws://127.0.0.1:${relay.port}/ws`;
  const codes = {
    malformed: await refusal(url, (c) => c.sendRaw(Uint8Array.of(0xff, 0x00, 0x13, 0x37))),
    oversized: await refusal(url, (c) => c.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1024).fill(0xa1))),
    version: await refusal(url, (c) => c.sendRaw(encode({ t: 'ping', v: 2, rid: 1 }))),
    unknownType: await refusal(url, (c) => c.sendRaw(encode({ t: 'steal', v: 1, rid: 1 }))),
    // Deposits need no identity (sealed sender); acknowledging a mailbox does.
    unauthenticated: await refusal(url, (c) => c.send({ t: 'ack', ids: [deposits[0]!.id] })),
    forgedAuth: await refusal(url, async (c) => {
      const challenge = await c.next('challenge');
      const me = newIdentity();
      c.send({ t: 'auth', ik: me.ik, sig: newIdentity().signAuth(challenge.nonce) });
    }),
  };
  expect(codes).toEqual({
    malformed: 'malformed',
    oversized: 'too_large',
    version: 'unsupported_version',
    unknownType: 'unknown_type',
    unauthenticated: 'unauthenticated',
    forgedAuth: 'auth_failed',
  });
  for (const code of new Set(Object.values(codes))) expect(await errorCount(relay, code), `relay counted ${code}`).toBeGreaterThan(0);

  // A stranger replays everything Alice deposited, and one tampered copy with a fresh id.
  const stranger = await TestClient.authenticated(url, newIdentity());
  defer(() => stranger.close());
  const replayed = deposits.filter((e) => e.to.length === 32);
  let rid = 100;
  for (const env of replayed) {
    stranger.send({ t: 'send', rid: ++rid, env });
    expect((await stranger.reply(rid)).t).toBe('sent');
  }
  const victim = replayed[schedule.int(0, replayed.length - 1)]!;
  const tamperedBody = victim.body.slice();
  const at = schedule.int(0, tamperedBody.length - 1);
  tamperedBody[at] = tamperedBody[at]! ^ 0x01;
  const tampered = { to: victim.to, id: Uint8Array.from({ length: 16 }, (_, k) => (k * 37 + at) & 0xff), body: tamperedBody };
  stranger.send({ t: 'send', rid: ++rid, env: tampered });
  expect((await stranger.reply(rid)).t).toBe('sent');
  // Bob refuses the tampered box (counted) and drains the replays (his mailbox empties).
  await expect.poll(async () => Object.values(await cryptoFailures(bob.page)).reduce((s, n) => s + n, 0), { timeout: 30_000 }).toBe(1);
  await expect.poll(() => relay.metric(/^petrel_queue_depth (\d+)/m), { timeout: 30_000 }).toBe(0);

  // The conversation continues both ways.
  for (let i = BEFORE; i < BEFORE + AFTER; i++) {
    await send(alice.page, body(tag, alice.name, i));
    await send(bob.page, body(tag, bob.name, i - BEFORE));
  }
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: BEFORE + AFTER },
      { from: bob, to: alice, tag, count: AFTER },
    ],
    started,
  );
  record(result, `6 refused frames, ${replayed.length} replayed envelopes, 1 tampered (byte ${at})`);
  await assertInvariants(result, [alice, bob], { tampered: true });
  expect(await cryptoFailures(alice.page), 'nothing tampered towards Alice').toEqual({});
  const bobRows = (await storedMessages(bob.page)).filter((m) => m.direction === 'in');
  expect(new Set(bobRows.map((m) => m.id)).size, 'no row twice at Bob').toBe(bobRows.length);
  await stillChatting(alice, bob, tag);
});

/** Records a copy of every binary message the page puts on a data channel (`window.__dataChannelSent`). */
function captureDataChannel(): void {
  const sent: number[][] = [];
  (window as unknown as Record<string, unknown>).__dataChannelSent = sent;
  const original = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
    const view = data as unknown;
    if (ArrayBuffer.isView(view) && sent.length < 500) sent.push(Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)));
    return original.call(this, data);
  } as RTCDataChannel['send'];
}

/** Envelopes `page` sent on its data channels so far. */
async function directEnvelopes(page: Page): Promise<Envelope[]> {
  const frames = await page.evaluate(() => (window as unknown as { __dataChannelSent: number[][] }).__dataChannelSent);
  const out: Envelope[] = [];
  for (const f of frames) {
    const frame = decodeFrame(Uint8Array.from(f), { from: 'peer' });
    if (frame.t === 'p2p.env') out.push(frame.env);
  }
  return out;
}

function inject(user: ChaosUser, bytes: Uint8Array): Promise<number> {
  return user.page.evaluate(
    (b) => (window as unknown as { __petrelTest: { injectDirect(bytes: Uint8Array): Promise<number> } }).__petrelTest.injectDirect(Uint8Array.from(b)),
    Array.from(bytes),
  );
}

/** One of Bob's counters (summed over labels when `labels` is omitted). */
function counter(user: ChaosUser, name: string, labels?: string): Promise<number> {
  return user.page.evaluate(
    async ([n, l]) => {
      const { counters } = (await (window as unknown as { __petrelTest: { diagnostics(): Promise<{ metrics: { counters: Record<string, number> } }> } }).__petrelTest.diagnostics()).metrics;
      if (l) return counters[`${n}{${l}}`] ?? 0;
      return Object.entries(counters)
        .filter(([k]) => k === n || k.startsWith(`${n}{`))
        .reduce((s, [, v]) => s + v, 0);
    },
    [name, labels] as const,
  );
}

scenario(
  8,
  'hostile input',
  'e2e/chaos/hostile-input.spec.ts',
  async ({ browser, schedule, defer, record }) => {
    const relay = await ChaosRelay.start();
    defer(() => relay.dispose());
    const [alice, bob] = await pair(browser, relay.origin, ['Alice', 'Bob'], { testHooks: true, initScript: captureDataChannel });
    defer(() => alice.context.close());
    defer(() => bob.context.close());
    const connection = (u: ChaosUser) => u.page.getByRole('status', { name: 'Connection' });

    const tag = `hostiledc${schedule.int(0, 9999)}`;
    const started = Date.now();
    // The first message starts the session over the relay; the channel opens after it.
    await send(alice.page, body(tag, alice.name, 0));
    for (const u of [alice, bob]) await expect(connection(u)).toHaveText('Online · direct to 1', { timeout: 60_000 });
    for (let i = 1; i < BEFORE; i++) await send(alice.page, body(tag, alice.name, i));
    expect(await settle([{ from: alice, to: bob, tag, count: BEFORE }], started)).toMatchObject({ lost: 0, unconfirmed: 0 });
    const delivered = (await directEnvelopes(alice.page)).filter((e) => e.to.length === 32);
    expect(delivered.length, 'envelopes Alice sent on the data channel').toBeGreaterThan(0);
    const bobMailbox = delivered[0]!.to;

    const victim = delivered[schedule.int(0, delivered.length - 1)]!;
    const replayed = delivered[schedule.int(0, delivered.length - 1)]!;
    const tamperedBody = victim.body.slice();
    const at = schedule.int(0, tamperedBody.length - 1);
    tamperedBody[at] = tamperedBody[at]! ^ 0x01;
    const freshId = Uint8Array.from({ length: 16 }, (_, k) => (k * 53 + at) & 0xff);
    const hostile: { what: string; bytes: Uint8Array; counted: [string, string | undefined] }[] = [
      { what: 'malformed CBOR', bytes: Uint8Array.of(0xff, 0x00, 0x13, 0x37), counted: ['packet.validation.failure', 'reason="malformed"'] },
      {
        // The channel itself carries nothing over MAX_FRAME_BYTES (below): the largest frame
        // it does carry, with an envelope body over its own limit, must be refused by Bob.
        what: 'oversized envelope',
        bytes: encode({ t: 'p2p.env', v: 1, env: { id: freshId.map((b) => b ^ 0xa5), to: bobMailbox, body: new Uint8Array(MAX_ENVELOPE_BODY_BYTES + 1).fill(0xa1) } }),
        counted: ['packet.validation.failure', 'reason="invalid_field"'],
      },
      { what: 'relay frame on the peer link', bytes: encode({ t: 'ping', v: 1, rid: 1 }), counted: ['packet.validation.failure', undefined] },
      {
        what: 'envelope for another mailbox',
        bytes: encodeFrame({ t: 'p2p.env', env: { to: bobMailbox.map((b) => b ^ 0xff), id: freshId.map((b) => b ^ 0x5a), body: victim.body } }),
        counted: ['packet.validation.failure', 'reason="wrong_destination"'],
      },
      { what: 'replay', bytes: encodeFrame({ t: 'p2p.env', env: replayed }), counted: ['packet.replay', 'transport="direct"'] },
      { what: 'tampered envelope', bytes: encodeFrame({ t: 'p2p.env', env: { to: victim.to, id: freshId, body: tamperedBody } }), counted: ['crypto.failure', undefined] },
    ];
    // Chromium's SCTP max-message-size is MAX_FRAME_BYTES: a larger frame cannot be put on the channel at all.
    await expect(inject(alice, new Uint8Array(MAX_FRAME_BYTES + 1).fill(0xa1)), 'a frame over MAX_FRAME_BYTES').rejects.toThrow(/max-message-size/);
    for (const h of hostile) {
      const before = await counter(bob, h.counted[0], h.counted[1]);
      expect(await inject(alice, h.bytes), `${h.what} put on the open channel`).toBe(1);
      await expect.poll(() => counter(bob, h.counted[0], h.counted[1]), { timeout: 30_000, message: `Bob refuses the ${h.what} (${h.counted.join(' ')})` }).toBe(before + 1);
    }
    expect(await cryptoFailures(alice.page), 'nothing tampered towards Alice').toEqual({});

    // The channel survived all of it, and the conversation continues on it, both ways.
    for (const u of [alice, bob]) await expect(connection(u)).toHaveText('Online · direct to 1');
    for (let i = BEFORE; i < BEFORE + AFTER; i++) {
      await send(alice.page, body(tag, alice.name, i));
      await send(bob.page, body(tag, bob.name, i - BEFORE));
    }
    const result = await settle(
      [
        { from: alice, to: bob, tag, count: BEFORE + AFTER },
        { from: bob, to: alice, tag, count: AFTER },
      ],
      started,
    );
    record(result, `${hostile.length} hostile frames on the data channel (${hostile.map((h) => h.what).join(', ')}; tampered byte ${at}); 1 over-limit frame the channel refused`);
    await assertInvariants(result, [alice, bob], { tampered: true });
    expect(Object.values(await cryptoFailures(bob.page)).reduce((n, c) => n + c, 0), 'exactly the tampered envelope failed at Bob').toBe(1);
    const bobRows = (await storedMessages(bob.page)).filter((m) => m.direction === 'in');
    expect(new Set(bobRows.map((m) => m.id)).size, 'no row twice at Bob').toBe(bobRows.length);
    await stillChatting(alice, bob, tag);
    // With everything before it confirmed, a new message takes the channel: it survived. (During
    // the run a message behind one that fell back to the relay, e.g. on an ack timeout under load,
    // follows it through the relay until its receipt is in: RelayOrderHold.)
    const last = (await storedMessages(bob.page)).filter((m) => m.direction === 'in' && m.body.startsWith(`${tag}-after:`));
    expect(last.map((m) => m.via), 'still on the data channel').toEqual(['direct']);
  },
  { variant: 'data channel' },
);
