import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useFocusOnRequest } from '../../hooks/useFocusOnRequest.ts';
import { toHex } from '../../../core/bytes.ts';
import { sameName } from '../../../core/messenger/same-name.ts';
import type { Invite, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { groupDigits } from '../../components/format.ts';
import './invite-review.css';

const selectMeId = (s: MessengerState) => s.me?.id;
const selectOwnInvite = (s: MessengerState) => s.me?.inviteUrl;

/** `wss://relay.example:443` of a relay URL, or undefined when it is not one. */
function relayOrigin(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

function relayHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
const selectContacts = (s: MessengerState) => s.contacts;

type Preview = { readonly kind: 'loading' } | { readonly kind: 'ready'; readonly digits: string } | { readonly kind: 'unavailable' };

export interface InviteReviewProps {
  readonly invite: Invite;
  /** Called with the contact's id once added (the caller opens the chat). */
  readonly onAdded: (contactId: string) => void;
  readonly onDismiss: () => void;
}

/** An opened invite: who it is, the safety number to compare, and "Add contact". */
export function InviteReview({ invite, onAdded, onDismiss }: InviteReviewProps) {
  const messenger = useMessenger();
  const heading = useRef<HTMLHeadingElement>(null);
  useFocusOnRequest('identity-created', heading);
  const meId = useMessengerState(selectMeId);
  const contacts = useMessengerState(selectContacts);
  const ownInvite = useMessengerState(selectOwnInvite);
  // Our own invite carries the relay this app talks to.
  const ownRelay = useMemo(() => (ownInvite ? messenger.parseInvite(ownInvite)?.relay : undefined), [messenger, ownInvite]);
  const otherRelay = ownRelay !== undefined && relayOrigin(invite.relay) !== relayOrigin(ownRelay);
  const titleId = useId();
  const contactId = toHex(invite.identityKey);
  const own = contactId === meId;
  const existing = contacts.find((c) => c.id === contactId);
  // A contact of that name with another key: this invite is not from them (as far as we know).
  const namesake = existing ? undefined : contacts.find((c) => sameName(c.displayName, invite.displayName));
  const [preview, setPreview] = useState<{ id: string; value: Preview }>({ id: contactId, value: { kind: 'loading' } });
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    if (own) return;
    let live = true;
    messenger.safetyNumber(contactId).then(
      (n) => live && setPreview({ id: contactId, value: { kind: 'ready', digits: n.digits } }),
      () => live && setPreview({ id: contactId, value: { kind: 'unavailable' } }),
    );
    return () => {
      live = false;
    };
  }, [messenger, contactId, own]);

  const add = () => {
    setAdding(true);
    setError('');
    messenger.addContact(invite).then(
      (id) => onAdded(id),
      () => {
        setAdding(false);
        setError(`Could not add ${invite.displayName}. Check the link and try again.`);
      },
    );
  };

  const shown = preview.id === contactId ? preview.value : ({ kind: 'loading' } as const);
  return (
    <section className="invite-review" aria-labelledby={titleId}>
      <h2 id={titleId} ref={heading} tabIndex={-1}>{own ? 'This is your own invite link' : `Add ${invite.displayName}?`}</h2>
      {own ? (
        <p>Share it with someone else so they can add you.</p>
      ) : (
        <>
          <p>
            <strong><bdi>{invite.displayName}</bdi></strong> invited you to talk on Petrel
            {existing ? ' — they are already in your contacts; adding again re-confirms them.' : '.'}
          </p>
          <p className="invite-relay">
            Relay: <code>{invite.relay}</code>
          </p>
          {namesake && (
            <p className="invite-relay-warning" role="note">
              <strong>This is not the {namesake.displayName} in your contacts.</strong> The invite carries a different key. It may
              be {namesake.displayName} on a new device, a damaged copy of their link, or someone posing as them. Adding it makes a
              separate contact; your conversation with {namesake.displayName} stays as it is, and you cannot write to the new one
              until you confirm it. Compare safety numbers with {namesake.displayName} (in person or on a call) first.
            </p>
          )}
          {otherRelay && (
            <p className="invite-relay-warning" role="note">
              <strong>This invite is for a different relay</strong> ({relayHost(invite.relay)}) than the one this app uses (
              {relayHost(ownRelay)}). Petrel sends only through its own relay, so {invite.displayName} will not get your messages
              unless they also use Petrel at {relayHost(ownRelay)}. Ask them for an invite from there if you are unsure.
            </p>
          )}
          <h3>Safety number</h3>
          {shown.kind === 'ready' && (
            <p className="invite-safety-number" role="group" aria-label="Safety number preview">
              {groupDigits(shown.digits).join(' ')}
            </p>
          )}
          {shown.kind === 'loading' && <p>Working out the safety number…</p>}
          {shown.kind === 'unavailable' && <p>The safety number will be shown once {invite.displayName} is added.</p>}
          <p className="invite-review-hint">
            Compare it with the one {invite.displayName} sees (in person or on a call) to be sure nobody is in between. You can
            also do this later with “Verify safety number”.
          </p>
        </>
      )}
      {error && <p role="alert" className="field-error">{error}</p>}
      <div className="invite-review-actions">
        {!own && (
          <button type="button" onClick={add} disabled={adding}>
            {namesake ? 'Add as a separate contact' : 'Add contact'}
          </button>
        )}
        <button type="button" onClick={onDismiss}>
          {own ? 'Close' : 'Not now'}
        </button>
      </div>
    </section>
  );
}
