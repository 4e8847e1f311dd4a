/** Why a device link is refused; each its own error with a stable `kind`. Nothing changes on a refusal. */
export type LinkErrorKind = 'malformed_link' | 'link_expired' | 'link_used' | 'link_tampered' | 'foreign_link' | 'transfer_out_of_order' | 'transfer_finished' | 'transfer_invalid' | 'link_unavailable' | 'link_interrupted' | 'too_many_devices' | 'already_set_up';

export abstract class LinkError extends Error {
  abstract readonly kind: LinkErrorKind;
}

/** The text is not a Petrel device link (wrong prefix, version, length or encoding). */
export class MalformedLinkError extends LinkError {
  readonly kind = 'malformed_link';
  override readonly name = 'MalformedLinkError';
}

/** The link's 10 minutes are over. */
export class LinkExpiredError extends LinkError {
  readonly kind = 'link_expired';
  override readonly name = 'LinkExpiredError';
}

/** The link was already used by a device: a link links one device, once. */
export class LinkUsedError extends LinkError {
  readonly kind = 'link_used';
  override readonly name = 'LinkUsedError';
}

/** The request's authentication tag does not verify under the link secret (changed in transit, or forged). */
export class LinkTamperedError extends LinkError {
  readonly kind = 'link_tampered';
  override readonly name = 'LinkTamperedError';
}

/** The request is for another link (another channel) than the one this device offered. */
export class ForeignLinkError extends LinkError {
  readonly kind = 'foreign_link';
  override readonly name = 'ForeignLinkError';
}

/** A transfer chunk that is not the next one expected (dropped, repeated or reordered in transit). */
export class LinkTransferOrderError extends LinkError {
  readonly kind = 'transfer_out_of_order';
  override readonly name = 'LinkTransferOrderError';
}

/** A chunk after the last one, or a seal after the sender sealed its last chunk. */
export class LinkTransferFinishedError extends LinkError {
  readonly kind = 'transfer_finished';
  override readonly name = 'LinkTransferFinishedError';
}

/** A transfer record out of place (history before the account, a contact's messages before the contact), an account that does not name this device, or totals that do not match. */
export class LinkTransferInvalidError extends LinkError {
  readonly kind = 'transfer_invalid';
  override readonly name = 'LinkTransferInvalidError';
}

/** Nobody waits on this link's channel (the other device closed it, reloaded, or the link was already used). */
export class LinkUnavailableError extends LinkError {
  readonly kind = 'link_unavailable';
  override readonly name = 'LinkUnavailableError';
}

/** The transfer stopped before it was complete (the other device or the connection went away); nothing was kept. */
export class LinkInterruptedError extends LinkError {
  readonly kind = 'link_interrupted';
  override readonly name = 'LinkInterruptedError';
}

/** The account already has the most devices it may (MAX_DEVICES): unlink one first. */
export class LinkDeviceLimitError extends LinkError {
  readonly kind = 'too_many_devices';
  override readonly name = 'LinkDeviceLimitError';
}

/** This browser already has an account: linking would replace it. */
export class AlreadySetUpError extends LinkError {
  readonly kind = 'already_set_up';
  override readonly name = 'AlreadySetUpError';
}
