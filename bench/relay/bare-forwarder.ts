/**
 * The ceiling for the relay benchmark: a bare `ws` forwarder with the same frames and
 * codec but no persistence, no signature check, no limits. `auth` binds the mailbox the
 * key hashes to without verifying anything; `send` is forwarded as `deliver` to the
 * connected recipient and answered `sent` at once. Prints `{"port":N}` when listening.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeFrame, encodeFrame, mailboxAddress } from '../../src/core/wire/index.ts';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 320 * 1024 });
const byMailbox = new Map<string, WebSocket>();
const key = (b: Uint8Array) => Buffer.from(b).toString('hex');

wss.on('connection', (ws) => {
  let mine: string | undefined;
  ws.send(encodeFrame({ t: 'challenge', nonce: new Uint8Array(32) }));
  ws.on('message', (data: Buffer) => {
    const f = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { from: 'client' });
    if (f.t === 'auth') {
      const mailbox = mailboxAddress(f.ik);
      mine = key(mailbox);
      byMailbox.set(mine, ws);
      ws.send(encodeFrame({ t: 'ready', mailbox, queued: 0 }));
    } else if (f.t === 'send') {
      byMailbox.get(key(f.env.to))?.send(encodeFrame({ t: 'deliver', env: f.env }));
      ws.send(encodeFrame({ t: 'sent', rid: f.rid, id: f.env.id }));
    }
  });
  ws.on('close', () => {
    if (mine && byMailbox.get(mine) === ws) byMailbox.delete(mine);
  });
});
wss.on('listening', () => {
  const a = wss.address();
  process.stdout.write(JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 }) + '\n');
});
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
