import type { StorageState } from '../../../core/messenger/messenger-api.ts';

type Trouble = Exclude<StorageState, 'ok'>;

const MESSAGE: Readonly<Record<Trouble, { readonly text: string; readonly reload: boolean }>> = {
  quota_exceeded: {
    text: 'Storage is full — new messages can’t be saved. Free up space on this device; Petrel saves again as soon as there is room.',
    reload: false,
  },
  blocked: {
    text: 'Waiting for storage: an older version of Petrel open in another tab is blocking it. Close the other Petrel tabs; this one continues by itself.',
    reload: false,
  },
  closed: {
    text: 'Petrel’s storage was closed by the browser (site data may have been cleared). This tab can no longer save or send. Reload to continue.',
    reload: true,
  },
  version_changed: {
    text: 'Petrel was updated in another tab. This tab has stopped; reload to continue with the new version.',
    reload: true,
  },
};

/**
 * Any storage trouble while Petrel is open (or still opening), shown until it is over:
 * what happened, what to do, and a reload where only a reload helps. Phase `failed` has
 * its own full screen (`StorageFailed`) instead.
 */
export function StorageBanner({ state }: { readonly state: StorageState }) {
  if (state === 'ok') return null;
  const { text, reload } = MESSAGE[state];
  return (
    <div className="storage-banner" role="alert" data-storage={state}>
      <p>{text}</p>
      {reload && (
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      )}
    </div>
  );
}
