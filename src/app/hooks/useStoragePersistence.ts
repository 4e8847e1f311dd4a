/**
 * Whether the browser keeps Petrel's storage under pressure, asked for at a moment it is
 * likely to say yes (issue 17): once a conversation holds a message (Chromium grants sites
 * the user engages with; Firefox asks the user, who now knows why), or when Petrel runs
 * installed (display-mode standalone: installed apps are granted). Asked at most once per
 * page; a refusal is kept as 'best-effort' and said plainly by PersistenceNotice.
 */
import { useEffect, useRef, useState } from 'react';
import { getStoragePersistence, requestPersistentStorage, type PersistableStorage, type StoragePersistence } from '../pwa/persistent-storage.ts';
import { useMediaQuery } from './useMediaQuery.ts';

export const INSTALLED_QUERY = '(display-mode: standalone)';

/** `storage`: navigator.storage by default (tests pass a double). Undefined until the first answer. */
export function useStoragePersistence(hasConversation: boolean, storage?: PersistableStorage | null): StoragePersistence | undefined {
  const installed = useMediaQuery(INSTALLED_QUERY, false);
  const [state, setState] = useState<StoragePersistence>();
  const asked = useRef(false);
  useEffect(() => {
    let live = true;
    void (storage === undefined ? getStoragePersistence() : getStoragePersistence(storage)).then((s) => live && setState((prev) => prev ?? s));
    return () => {
      live = false;
    };
  }, [storage]);
  useEffect(() => {
    if (state !== 'best-effort' || asked.current || !(hasConversation || installed)) return;
    asked.current = true;
    let live = true;
    void (storage === undefined ? requestPersistentStorage() : requestPersistentStorage(storage)).then((s) => live && setState(s));
    return () => {
      live = false;
    };
  }, [state, hasConversation, installed, storage]);
  return state;
}
