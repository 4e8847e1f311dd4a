import { pqpkSignaturePayload, spkSignaturePayload, type PublishedBundle } from '../../core/wire/index.ts';
import { verifyEd25519 } from '../crypto/ed25519-verify.ts';

/**
 * Checks every signature of an uploaded bundle against its identity key: the signed
 * prekey, the last-resort PQ key and each PQ one-time key (X25519 one-time keys are
 * unsigned by design). Returns the dotted path of the first bad signature, or undefined.
 */
export function firstBadSignature(bundle: PublishedBundle): string | undefined {
  if (!verifyEd25519(bundle.ik, spkSignaturePayload(bundle.spk.pub), bundle.spk.sig)) return 'spk';
  if (!verifyEd25519(bundle.ik, pqpkSignaturePayload(bundle.pqspk.pub), bundle.pqspk.sig)) return 'pqspk';
  for (let i = 0; i < bundle.pqopks.length; i++) {
    const k = bundle.pqopks[i]!;
    if (!verifyEd25519(bundle.ik, pqpkSignaturePayload(k.pub), k.sig)) return `pqopks[${i}]`;
  }
  return undefined;
}
