// Content addressing: `sha256:<64 hex>` digests, checked against the bytes actually fetched.
import { createHash } from 'node:crypto';
import { DigestMismatchError } from './pod-runtime.js';

const DIGEST_PATTERN = /^sha256:([0-9a-f]{64})$/;

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The hex part of a well-formed digest; throws DigestMismatchError for anything else. */
export function digestHex(digest: string): string {
  const match = DIGEST_PATTERN.exec(digest);
  if (!match?.[1]) throw new DigestMismatchError(`malformed digest "${digest}": expected sha256:<64 lowercase hex>`);
  return match[1];
}

export function verifyDigest(digest: string, bytes: Uint8Array): void {
  digestHex(digest);
  const actual = digestOf(bytes);
  if (actual !== digest) throw new DigestMismatchError(`digest mismatch: expected ${digest}, fetched bytes are ${actual}`);
}
