/**
 * UI-only state: what the messaging core does not need to know. Drafts per contact,
 * which pane a phone shows, which dialog is open, the invite being reviewed and the
 * conversation a link asked for. A
 * vanilla zustand store (one per `<Shell>`) reached through `useUi`.
 */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Invite } from '../core/messenger/messenger-api.ts';

/** On narrow screens only one pane is shown at a time. */
export type Pane = 'list' | 'chat';

export type OpenDialog =
  | { readonly kind: 'none' }
  | { readonly kind: 'diagnostics' }
  | { readonly kind: 'settings' }
  | { readonly kind: 'devices' }
  | { readonly kind: 'scan-invite' }
  | { readonly kind: 'delete-for-everyone'; readonly messageId: string }
  | { readonly kind: 'backup' }
  | { readonly kind: 'safety-number'; readonly contactId: string }
  | { readonly kind: 'rename-contact'; readonly contactId: string }
  | { readonly kind: 'delete-conversation'; readonly contactId: string }
  | { readonly kind: 'new-group' }
  | { readonly kind: 'group-info'; readonly groupId: string }
  /** Who of a group has received and read one of our messages. */
  | { readonly kind: 'message-details'; readonly messageId: string };

/** Where keyboard focus should go after a pane switch (consumed by the target). */
export type FocusRequest =
  | { readonly kind: 'chat' | 'contact'; readonly contactId: string }
  /** The conversation list's heading (after the open conversation was deleted). */
  | { readonly kind: 'list' }
  /** Just created: the invite under review if one is pending, otherwise "Your invite" (the next step). */
  | { readonly kind: 'identity-created' };

/** What the composer of a conversation is doing besides a new message: replying to one, or editing one of ours. */
export type ComposeTarget = { readonly kind: 'reply' | 'edit'; readonly messageId: string; readonly excerpt: string };

export interface UiState {
  readonly drafts: Readonly<Record<string, string>>;
  /** Per conversation: the message being replied to or edited (absent: a new message). */
  readonly composeTargets: Readonly<Record<string, ComposeTarget>>;
  readonly pane: Pane;
  readonly dialog: OpenDialog;
  /** An invite opened from a link or pasted, waiting for "Add contact". */
  readonly pendingInvite?: Invite;
  /** An invite link that was opened but is damaged or incomplete: what to tell the person. */
  readonly inviteProblem?: string;
  readonly focusRequest?: FocusRequest;
  /** A conversation named by the address (`#/chat/<id>`), opened once its contact is known. */
  readonly linkedChat?: string;
  /**
   * The conversation the user just opened (`id`; undefined: closed) while the core has not
   * switched to it yet: shown at once, so what is typed meanwhile lands in it
   * (open-conversation.ts). Cleared once the core's open chat is that one.
   */
  readonly opening?: { readonly id: string | undefined };
  setDraft(contactId: string, text: string): void;
  setComposeTarget(contactId: string, target: ComposeTarget | undefined): void;
  showPane(pane: Pane): void;
  openDialog(dialog: OpenDialog): void;
  closeDialog(): void;
  reviewInvite(invite: Invite | undefined): void;
  showInviteProblem(problem: string | undefined): void;
  requestFocus(request: FocusRequest | undefined): void;
  linkChat(contactId: string | undefined): void;
  setOpening(opening: { readonly id: string | undefined } | undefined): void;
}

export type UiStore = StoreApi<UiState>;

/** Where drafts are kept beyond the page (Web Storage in the app); memory only without it. */
export interface DraftPersistence {
  all(): Record<string, string>;
  set(contactId: string, text: string): void;
  /**
   * Drafts changed elsewhere (another tab, a refused resend given back). `previous`: the
   * draft another tab's change replaced; it applies only over that (see draft-store.ts).
   */
  subscribe(listener: (contactId: string, text: string, previous?: string) => void): () => void;
}

export function createUiStore(persistence?: DraftPersistence): UiStore {
  const store = createStore<UiState>()((set) => ({
    drafts: persistence?.all() ?? {},
    composeTargets: {},
    pane: 'list',
    dialog: { kind: 'none' },
    setComposeTarget: (contactId, target) =>
      set((s) => {
        const composeTargets = { ...s.composeTargets };
        if (target) composeTargets[contactId] = target;
        else delete composeTargets[contactId];
        return { composeTargets };
      }),
    setDraft: (contactId, text) => {
      persistence?.set(contactId, text);
      setDraftInMemory(contactId, text);
    },
    showPane: (pane) => set({ pane }),
    openDialog: (dialog) => set({ dialog }),
    closeDialog: () => set({ dialog: { kind: 'none' } }),
    reviewInvite: (pendingInvite) => set({ pendingInvite, inviteProblem: undefined }),
    showInviteProblem: (inviteProblem) => set({ inviteProblem, pendingInvite: undefined }),
    requestFocus: (focusRequest) => set({ focusRequest }),
    linkChat: (linkedChat) => set({ linkedChat }),
    setOpening: (opening) => set({ opening }),
  }));
  function setDraftInMemory(contactId: string, text: string): void {
    store.setState((s) => {
      const drafts = { ...s.drafts };
      if (text === '') delete drafts[contactId];
      else drafts[contactId] = text;
      return { drafts };
    });
  }
  // Lives as long as the page: one UI store per Shell, one Shell per page. Another tab's
  // change applies only over the draft it replaced: one that arrives after this page's own
  // edit (its events lag) would otherwise put back, or empty, a field typed in since.
  persistence?.subscribe((contactId, text, previous) => {
    if (previous !== undefined && (store.getState().drafts[contactId] ?? '') !== previous) return;
    setDraftInMemory(contactId, text);
  });
  return store;
}

export const UiStoreContext = createContext<UiStore | null>(null);

/** A UI store hook was used outside `<Shell>` (which provides the store). */
export class MissingUiStore extends Error {
  override readonly name = 'MissingUiStore';
  constructor() {
    super('useUi needs the UI store that <Shell> provides');
  }
}

export function useUiStore(): UiStore {
  const store = useContext(UiStoreContext);
  if (!store) throw new MissingUiStore();
  return store;
}

/** A slice of the UI state (return primitives or stable references from `selector`). */
export function useUi<T>(selector: (s: UiState) => T): T {
  return useStore(useUiStore(), selector);
}
