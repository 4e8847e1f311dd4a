/** The wire format: frames, codecs, limits and address derivation shared by client, relay and peers. */
export * from './frames.ts';
export * from './limits.ts';
export { WireError, isWireError, type WireErrorReason } from './wire-error.ts';
export { encodeFrame, decodeFrame, isFrameFrom, type DecodeFrameOptions, type FrameFrom } from './frame-codec.ts';
export {
  encodeContent,
  decodeContent,
  type ActionContent,
  type Content,
  type ContentType,
  type DeleteContent,
  type EditContent,
  type FallbackContent,
  type FileContent,
  type MsgContent,
  type ProfileContent,
  type ReactContent,
  type ReceiptContent,
  type ReplyContent,
  type RetryContent,
  type RtcContent,
  type SendableContent,
} from './content.ts';
export { VALIDATION_FAILURE_METRIC, type WireMetrics, type DecodeOptions } from './versioned-codec.ts';
export { mailboxAddress, authPayload, spkSignaturePayload, pqpkSignaturePayload, MAILBOX_LABEL, AUTH_LABEL, SPK_SIGNATURE_LABEL, PQPK_SIGNATURE_LABEL } from './mailbox-address.ts';
export * from './device-list.ts';
export * from './link-records.ts';
export * from './link-channel.ts';
export * from './group-change.ts';
