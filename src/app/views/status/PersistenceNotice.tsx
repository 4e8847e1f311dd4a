import { useState } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessengerState } from '../../messenger-context.tsx';
import { useStoragePersistence } from '../../hooks/useStoragePersistence.ts';
import type { PersistableStorage } from '../../pwa/persistent-storage.ts';

const selectHasConversation = (s: MessengerState) => s.contacts.some((c) => c.lastMessage !== undefined);

/**
 * Says plainly, outside Diagnostics, when the browser may delete Petrel's data (storage is
 * not persistent) and what keeps it: installing Petrel, linking another device, or a
 * backup. Asks for persistence at the right moment (useStoragePersistence). Hidden while
 * the answer is unknown, once storage is persistent, where the browser cannot promise
 * anything either way, and for the rest of the page once dismissed.
 */
export function PersistenceNotice({ storage }: { readonly storage?: PersistableStorage | null }) {
  const hasConversation = useMessengerState(selectHasConversation);
  const persistence = useStoragePersistence(hasConversation, storage);
  const [dismissed, setDismissed] = useState(false);
  if (persistence !== 'best-effort' || dismissed) return null;
  return (
    <div className="storage-banner persistence-notice" role="status" data-persistence={persistence}>
      <p>
        This browser may delete Petrel’s messages and keys from this device when it runs low on space. To keep them, install Petrel (your
        browser’s “Install app”), link another device, or make a backup.
      </p>
      <button type="button" onClick={() => setDismissed(true)}>
        Not now
      </button>
    </div>
  );
}
