import type { TransferView } from '../../../core/messenger/messenger-api.ts';

export interface TransferProgressProps {
  readonly transfer: TransferView;
  readonly onCancel: () => void;
  /** Continues a stopped transfer that can continue (`transfer.retryable`). */
  readonly onRetry?: () => void;
}

/** A moving file: a progressbar named after it; a stopped one: why, in words, and Retry when it can go on. */
export function TransferProgress({ transfer, onCancel, onRetry }: TransferProgressProps) {
  if (transfer.failure) {
    return (
      <div className="transfer transfer-failed">
        <p role="alert">
          {transfer.direction === 'up' ? 'Not sent' : 'Not downloaded'}: {transfer.name}. {transfer.failure}
        </p>
        {transfer.retryable && onRetry && (
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        )}
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
