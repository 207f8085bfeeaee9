// Parses container image references as skiff understands them: NAME[:TAG] or NAME@sha256:HEX.

export type ImageReference =
  | { kind: 'tag'; name: string; tag: string }
  | { kind: 'digest'; name: string; digest: string };

export class InvalidImageReferenceError extends Error {
  override readonly name = 'InvalidImageReferenceError';
}

const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImageReference(ref: string): ImageReference {
  const at = ref.indexOf('@');
  if (at >= 0) {
    const name = ref.slice(0, at);
    const digest = ref.slice(at + 1);
    if (!NAME.test(name) || !DIGEST.test(digest)) throw new InvalidImageReferenceError(`invalid image reference "${ref}"`);
    return { kind: 'digest', name, digest };
  }
  const colon = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  if (!NAME.test(name) || !TAG.test(tag)) throw new InvalidImageReferenceError(`invalid image reference "${ref}"`);
  return { kind: 'tag', name, tag };
}
