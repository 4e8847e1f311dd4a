import { useId, useRef, useState } from 'react';
import { useFocusOnRequest } from '../../hooks/useFocusOnRequest.ts';
import type { Me } from '../../../core/messenger/messenger-api.ts';
import { QrCode } from '../../components/QrCode.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';

/**
 * Your invite link (read-only field, Copy, Share invite: the Web Share API where the
 * browser has it, otherwise a copy) and the same as a QR code; Scan QR code reads
 * someone else's.
 */
export function InvitePanel({ me }: { readonly me: Me }) {
  const fieldId = useId();
  const titleId = useId();
  const ui = useUiStore();
  const heading = useRef<HTMLHeadingElement>(null);
  // An invite waiting for review takes the focus instead (InviteReview).
  useFocusOnRequest('identity-created', heading, !useUi((s) => s.pendingInvite));
  const [copyNote, setCopyNote] = useState('');
  const share = () => {
    if (typeof navigator.share !== 'function') {
      copy();
      return;
    }
    navigator.share({ title: 'Petrel invite', text: `Add ${me.displayName} on Petrel:`, url: me.inviteUrl }).then(
      () => setCopyNote('Invite shared.'),
      // Cancelled by the user (AbortError) says nothing; a refusal falls back to copying.
      (err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError')) copy();
      },
    );
  };
  const copy = () => {
    const field = document.getElementById(fieldId);
    if (field instanceof HTMLInputElement) field.select();
    if (!navigator.clipboard) {
      setCopyNote('Press Ctrl+C (or ⌘C) to copy the selected link.');
      return;
    }
    navigator.clipboard.writeText(me.inviteUrl).then(
      () => setCopyNote('Invite link copied.'),
      () => setCopyNote('Could not copy: press Ctrl+C (or ⌘C) to copy the selected link.'),
    );
  };
  return (
    <section className="invite-panel" aria-labelledby={titleId}>
      <h2 id={titleId} ref={heading} tabIndex={-1}>
        Your invite
      </h2>
      <p className="invite-hint">
        You are <strong><bdi>{me.displayName}</bdi></strong>. Send this link to someone you want to talk to; opening it in Petrel lets
        them add you.
      </p>
      <label htmlFor={fieldId}>Your invite link</label>
      <div className="invite-row">
        <input id={fieldId} readOnly value={me.inviteUrl} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy<span className="visually-hidden"> invite link</span>
        </button>
      </div>
      <div className="invite-actions">
        <button type="button" onClick={share}>
          Share invite
        </button>
        <button type="button" onClick={() => ui.getState().openDialog({ kind: 'scan-invite' })}>
          Scan QR code
        </button>
      </div>
      <p className="invite-copy-note" aria-live="polite">
        {copyNote}
      </p>
      <details className="invite-qr">
        <summary>Show as QR code</summary>
        <QrCode data={me.inviteUrl} label="QR code of the invite link" />
      </details>
    </section>
  );
}
