import type { StorageState } from '../../../core/messenger/messenger-api.ts';

interface Explanation {
  /** What happened, in words a person understands. */
  readonly what: string;
  /** What to do about it. */
  readonly todo: string;
}

const EXPLANATION: Readonly<Record<StorageState, Explanation>> = {
  quota_exceeded: {
    what: 'Your device has run out of storage space for Petrel. Your messages are still on this device.',
    todo: 'Free up space (delete files or apps, or data other sites keep), then reload this page.',
  },
  blocked: {
    what: 'An older version of Petrel open in another tab is blocking the update of its storage.',
    todo: 'Close the other Petrel tabs, then reload this page.',
  },
  closed: {
    what: 'The browser closed Petrel’s storage, which can happen when site data is cleared.',
    todo: 'Reload this page to open it again.',
  },
  version_changed: {
    what: 'Petrel was updated in another tab.',
    todo: 'Reload this page to continue with the new version.',
  },
  ok: {
    what: 'Petrel could not open its storage on this device. The browser may block site storage here (private or guest windows often do), or be too old for Petrel.',
    todo: 'Try a normal window of an up-to-date browser, then reload this page.',
  },
};

/** Phase `failed`: storage is unusable; say what happened and what to do, and offer a reload. */
export function StorageFailed({ state }: { readonly state: StorageState }) {
  const { what, todo } = EXPLANATION[state];
  return (
    <section className="phase-notice" aria-labelledby="storage-failed-title">
      <h2 id="storage-failed-title">Petrel cannot use its storage</h2>
      <p>{what}</p>
      <p>
        <strong>What to do:</strong> {todo}
      </p>
      <button type="button" onClick={() => window.location.reload()}>
        Reload
      </button>
    </section>
  );
}
