import type { StorageState } from '../../../core/messenger/messenger-api.ts';

const EXPLANATION: Readonly<Record<StorageState, string>> = {
  quota_exceeded:
    'Your device has run out of storage space for Petrel. Free some space (or remove data other sites keep), then reload this page. Your messages are still on this device.',
  blocked: 'An older version of Petrel open in another tab is blocking the update of its storage. Close the other Petrel tabs, then reload this page.',
  closed: 'The browser closed Petrel’s storage, which can happen when site data is cleared. Reload this page to open it again.',
  version_changed: 'Petrel was updated in another tab. Reload this page to continue with the new version.',
  ok: 'Petrel could not open its storage on this device. Private or guest browsing windows sometimes block it: try a normal window, then reload.',
};

/** Phase `failed`: storage is unusable; say why in plain words and offer a reload. */
export function StorageFailed({ state }: { readonly state: StorageState }) {
  return (
    <section className="phase-notice" aria-labelledby="storage-failed-title">
      <h2 id="storage-failed-title">Petrel cannot use its storage</h2>
      <p>{EXPLANATION[state]}</p>
      <button type="button" onClick={() => window.location.reload()}>
        Reload
      </button>
    </section>
  );
}
