/** Errors the messenger's commands raise, one per failure a person can run into. */
export abstract class MessengerError extends Error {
  abstract readonly kind: string;
}

export class NoIdentityError extends MessengerError {
  readonly kind = 'no_identity';
  override readonly name = 'NoIdentityError';
}

export class UnknownContactError extends MessengerError {
  readonly kind = 'unknown_contact';
  override readonly name = 'UnknownContactError';
}

/** The contact's identity key changed and the user has not acknowledged it yet. */
export class KeyChangeUnacknowledgedError extends MessengerError {
  readonly kind = 'key_change_unacknowledged';
  override readonly name = 'KeyChangeUnacknowledgedError';
}

export class InvalidMessageTextError extends MessengerError {
  readonly kind = 'invalid_text';
  override readonly name = 'InvalidMessageTextError';
}

export class NotLeaderError extends MessengerError {
  readonly kind = 'not_leader';
  override readonly name = 'NotLeaderError';
}

export class MalformedSessionSetError extends MessengerError {
  readonly kind = 'malformed_session_set';
  override readonly name = 'MalformedSessionSetError';
}

/** A waiting message job has neither its plaintext nor a message row to rebuild it from (storage was altered). */
export class MissingJobContentError extends MessengerError {
  readonly kind = 'missing_job_content';
  override readonly name = 'MissingJobContentError';
}

/** No session with the contact can take this message (not a session start, and no session yet). */
export class NoSessionError extends MessengerError {
  readonly kind = 'no_session';
  override readonly name = 'NoSessionError';
}

/**
 * A session start whose base key we already accepted from this contact: a copy of an old
 * first message deposited again. Never accepted (it would replace the working session).
 */
export class ReplayedSessionStartError extends MessengerError {
  readonly kind = 'replayed_session_start';
  override readonly name = 'ReplayedSessionStartError';
}

/** An invite whose identity key cannot be anyone's (not a canonical Ed25519 point of large order). */
export class InvalidInviteKeyError extends MessengerError {
  readonly kind = 'invalid_invite_key';
  override readonly name = 'InvalidInviteKeyError';
}

/** A file over the attachment limit: refused before anything is uploaded. */
export class FileTooLargeError extends MessengerError {
  readonly kind = 'file_too_large';
  override readonly name = 'FileTooLargeError';
}

/** A file that cannot be sent as it is (no name, a name or type too long). */
export class InvalidFileError extends MessengerError {
  readonly kind = 'invalid_file';
  override readonly name = 'InvalidFileError';
}

/** No message with this id, or one without a file. */
export class NoAttachmentError extends MessengerError {
  readonly kind = 'no_attachment';
  override readonly name = 'NoAttachmentError';
}

/** This core was started without a way to reach the relay's blob endpoints. */
export class AttachmentsUnavailableError extends MessengerError {
  readonly kind = 'attachments_unavailable';
  override readonly name = 'AttachmentsUnavailableError';
}

/** The user stopped the transfer. */
export class TransferCancelledError extends MessengerError {
  readonly kind = 'cancelled';
  override readonly name = 'TransferCancelledError';
}

/** The user blocked this contact: nothing is sent to it until they unblock it. */
export class ContactBlockedError extends MessengerError {
  readonly kind = 'contact_blocked';
  override readonly name = 'ContactBlockedError';
}

/** The contact is a message request the user has not accepted: replying waits for Accept. */
export class MessageRequestPendingError extends MessengerError {
  readonly kind = 'message_request_pending';
  override readonly name = 'MessageRequestPendingError';
}

/** A contact change with unusable arguments (a name that is not text or too long, blocked not a boolean). */
export class InvalidContactChangeError extends MessengerError {
  readonly kind = 'invalid_contact_change';
  override readonly name = 'InvalidContactChangeError';
}

/**
 * An edit, delete or reaction the rules refuse (docs/PROTOCOL.md §11.2): `reason` is one of
 * message-actions.ts's refusals, or `invalid` (not one emoji, empty text) or
 * `unknown_message` (no such message in this conversation).
 */
export class MessageActionRefusedError extends MessengerError {
  readonly kind = 'action_refused';
  override readonly name = 'MessageActionRefusedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** A group command this build cannot do yet (issue 18 lands in steps). */
export class GroupsNotBuiltError extends MessengerError {
  readonly kind = 'groups_not_built';
  override readonly name = 'GroupsNotBuiltError';
}

/** More than 1,000 members in a group (us included), or none besides us at creation. */
export class GroupTooLargeError extends MessengerError {
  readonly kind = 'group_too_large';
  override readonly name = 'GroupTooLargeError';
}

/** Only a group's admins may add, remove and rename. */
export class NotGroupAdminError extends MessengerError {
  readonly kind = 'not_group_admin';
  override readonly name = 'NotGroupAdminError';
}

/** No group with this id, or one we left or were removed from (read-only). */
export class UnknownGroupError extends MessengerError {
  readonly kind = 'unknown_group';
  override readonly name = 'UnknownGroupError';
}

/** Edits, reactions and files are not sent in groups in this round. */
export class NotInGroupsError extends MessengerError {
  readonly kind = 'not_in_groups';
  override readonly name = 'NotInGroupsError';
}

/** The relay refused this device's push subscription (`reason`: its error code, or why it could not be asked). */
export class PushRegistrationRefusedError extends MessengerError {
  readonly kind = 'push_refused';
  override readonly name = 'PushRegistrationRefusedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
