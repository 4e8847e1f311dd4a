import { useCallback } from 'react';
import type { ChatDevice, MessageView, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { formatMessageTime } from '../../components/format.ts';
import { useNow } from '../../hooks/useNow.ts';
import { useMessengerState } from '../../messenger-context.tsx';
import { STATUS_TEXT } from '../chat/message-status.ts';
import './groups.css';

const MINUTE_MS = 60_000;

const selectDevices = (s: MessengerState) => s.chat?.devices;

/** Each of the contact's devices and its state of `message` (Sent until its receipt comes; Not sent when its copy was given up on), named as its signed list names it. */
function deviceRows(message: MessageView, devices: readonly ChatDevice[]) {
  const receipts = new Map((message.deviceReceipts ?? []).map((r) => [r.device, r]));
  const failed = new Set(message.failedDevices ?? []);
  return devices.map((d) => ({ device: d.id, name: d.name, receipt: receipts.get(d.id), failed: failed.has(d.id) }));
}

function deviceState(d: ReturnType<typeof deviceRows>[number], now: number): string {
  if (d.receipt) return `${STATUS_TEXT[d.receipt.status]} ${formatMessageTime(d.receipt.at, now)}`;
  return d.failed ? `${STATUS_TEXT.failed} (Retry sends it again)` : 'Not delivered yet';
}

/**
 * One of our messages: in a group, its status (the weakest of the members') and, per member,
 * whether it was delivered to them and read; to a contact of several devices, its status
 * (the best of the devices') and, per device, delivered or read and when. Follows the live
 * state while open.
 */
export function MessageDetailsDialog({ messageId, onClose }: { readonly messageId: string; readonly onClose: () => void }) {
  const message = useMessengerState(useCallback((s: MessengerState) => s.chat?.messages.find((m) => m.id === messageId), [messageId]));
  const devices = useMessengerState(selectDevices);
  const now = useNow(true, MINUTE_MS);
  return (
    <Dialog title="Message details" onClose={onClose} className="group-dialog">
      {!message ? (
        <p>This message is no longer here.</p>
      ) : (
        <>
          <p className="group-details-text" dir="auto">
            {message.text}
          </p>
          <p>
            Status: <strong>{STATUS_TEXT[message.status]}</strong>
            {message.memberStatus && message.memberStatus.length > 1 && ' (shown for the member it reached least)'}
          </p>
          {!message.memberStatus && devices && devices.length > 1 && (
            <>
              <p>Shown for the device it reached best.</p>
              <ul className="group-member-status" aria-label="Delivery to each device">
                {deviceRows(message, devices).map((d) => (
                  <li key={d.device} data-status={d.receipt?.status ?? (d.failed ? 'failed' : 'sent')}>
                    <bdi dir="auto">{d.name}</bdi> <small>{d.device.slice(0, 8)}</small>: {deviceState(d, now)}
                  </li>
                ))}
                {message.failedAccountCopy && (
                  // The copy to the contact's account mailbox, sent before we knew its devices.
                  <li data-status="failed">Account mailbox (before the devices were known): {STATUS_TEXT.failed} (Retry sends it again)</li>
                )}
              </ul>
            </>
          )}
          {message.memberStatus && (
            <ul className="group-member-status" aria-label="Delivery to each member">
              {message.memberStatus.map((m) => (
                <li key={m.id} data-status={m.status}>
                  <bdi dir="auto">{m.name}</bdi>: {STATUS_TEXT[m.status]}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Dialog>
  );
}
