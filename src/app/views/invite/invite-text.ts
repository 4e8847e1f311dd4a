/** What the person is told when an opened or pasted invite link is damaged or cut short. */
export const INVITE_LINK_DAMAGED =
  'The link is damaged or incomplete (part of it may have been cut off when it was copied). Nobody was added. Ask for the invite link again, or scan its QR code.';
