import type { MessageStatus, MessageView } from '../../../core/messenger/messenger-api.ts';

/** What each status is called and drawn as (the icon is decorative; the text is read). */
export const STATUS_TEXT: Readonly<Record<MessageStatus, string>> = {
  queued: 'Queued',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

export const STATUS_ICON: Readonly<Record<MessageStatus, string>> = {
  queued: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
  failed: '⚠',
};

/** The status in words; a message queued on another device of ours (a device link brought it) says so. */
export function statusText(m: Pick<MessageView, 'status' | 'queuedElsewhere'>): string {
  return m.queuedElsewhere ? 'Queued on your other device' : STATUS_TEXT[m.status];
}

/**
 * Ours to a contact of several devices, sent or delivered to some (or still queued for
 * them), given up on for others (`failedDevices`, `failedAccountCopy`): "Delivered · not
 * sent to 1 of Ada's devices", "Queued · not sent to 1 of Ada's devices".
 */
export function partlyNotSentText(m: Pick<MessageView, 'status' | 'queuedElsewhere'>, notSentTo: number, peerName: string): string {
  return `${statusText(m)} · not sent to ${notSentTo} of ${peerName}'s devices`;
}
