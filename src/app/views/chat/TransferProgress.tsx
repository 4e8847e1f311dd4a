import type { TransferView } from '../../../core/messenger/messenger-api.ts';

/** A moving file: a progressbar named after it; a stopped one: why, in words. */
export function TransferProgress({ transfer, onCancel }: { readonly transfer: TransferView; readonly onCancel: () => void }) {
  if (transfer.failure) {
    return (
      <div className="transfer transfer-failed">
        <p role="alert">
          {transfer.direction === 'up' ? 'Not sent' : 'Not downloaded'}: {transfer.name}. {transfer.failure}
        </p>
        <button type="button" onClick={onCancel}>
          Dismiss
        </button>
      </div>
    );
  }
  return (
    <div className="transfer">
      <progress aria-label={transfer.name} max={transfer.total || 1} value={transfer.done} />
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
