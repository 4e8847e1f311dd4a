/**
 * What the backup views say about a failure (docs/PROTOCOL.md §16): the core's typed
 * BackupError / VaultError kinds in plain words, each saying what to do next.
 */
export function restoreFailure(err: unknown): string {
  const kind = (err as { kind?: unknown } | null)?.kind;
  const message = err instanceof Error && err.message ? err.message : '';
  switch (kind) {
    case 'wrong_key':
      return 'This recovery key (or passphrase) does not open this backup. Check it, or use the key shown when this backup was made. Nothing was restored.';
    case 'bad_recovery_key':
      return `This recovery key is not quite right: ${message}. Check each group of four against the one you kept.`;
    case 'tampered':
    case 'truncated':
    case 'extended':
    case 'malformed':
    case 'unknown_version':
    case 'invalid_content':
      return `This backup file cannot be read (${message}). Nothing was restored; try another copy of the file.`;
    case 'not_found':
      return 'The relay keeps no backup under this recovery key. Check the key, or restore from a backup file.';
    case 'refused':
    case 'network':
      return `The relay could not be asked for the backup (${message}). Try again in a moment.`;
    default:
      return `Nothing was restored: ${message || 'please try again'}.`;
  }
}

/** A backup file's name: the app and the day it was made. */
export function backupFileName(now: Date): string {
  return `petrel-backup-${now.toISOString().slice(0, 10)}.petrel`;
}
