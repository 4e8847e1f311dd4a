/**
 * When to remind the user to back up (issue 17): the account has been on this device for
 * BACKUP_REMINDER_AFTER_MS (7 days), and in all that time it has had no backup — neither a
 * file made nor a copy kept on the relay — and no second device. Either of those keeps the
 * account when this browser forgets it; without them, a cleared profile loses everything.
 * Pure: the caller passes the time from the injected clock.
 */

export const BACKUP_REMINDER_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

export interface BackupReminderInput {
  readonly now: number;
  /** When the account's identity was written on this device (ms). */
  readonly since: number;
  readonly lastBackupAt?: number;
  readonly relay: boolean;
  /** Devices our account's signed list names (0 or 1: this one only). */
  readonly devices: number;
}

export function backupReminderDue(input: BackupReminderInput): boolean {
  if (input.lastBackupAt !== undefined || input.relay || input.devices >= 2) return false;
  return input.now - input.since >= BACKUP_REMINDER_AFTER_MS;
}
