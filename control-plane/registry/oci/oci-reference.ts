// OCI image references: `host[:port]/repository[:tag][@sha256:HEX]`, told from the cluster's own
// registry names (`NAME[:TAG]`) as Docker tells them: a first path component holding a '.' or a
// ':', or `localhost`, is a registry host.

export interface OciReference {
  /** host[:port] as written (`docker.io` is served by `registry-1.docker.io`). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export class InvalidOciReferenceError extends Error {
  override readonly name = 'InvalidOciReferenceError';
}

// The distribution spec's grammar (reference/regexp.go), bounded so a hostile value cannot make it backtrack.
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?))*(?::\d{1,5})?$|^\[[0-9a-fA-F:.]{2,45}\](?::\d{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_REFERENCE_LENGTH = 512;

/** Whether `image` names an OCI registry rather than the cluster's registry. */
export function isOciReference(image: string): boolean {
  const slash = image.indexOf('/');
  if (slash <= 0) return false;
  const first = image.slice(0, slash);
  return first === 'localhost' || first.includes('.') || first.includes(':') || first.startsWith('[');
}

export function parseOciReference(image: string): OciReference {
  const bad = (why: string) => new InvalidOciReferenceError(`invalid image reference "${image.slice(0, 100)}": ${why}`);
  if (image.length > MAX_REFERENCE_LENGTH) throw bad(`longer than ${MAX_REFERENCE_LENGTH} characters`);
  if (!isOciReference(image)) throw bad('no registry host');
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 lowercase hex digits');
  }
  const slash = rest.indexOf('/');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad('invalid tag');
  }
  if (!HOST.test(registry)) throw bad('invalid registry host');
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad('invalid port');
  const components = path.split('/');
  if (path.length > 255 || !components.every((c) => COMPONENT.test(c))) throw bad('invalid repository name');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The reference a registry's API takes: the digest when pinned, else the tag. */
export const manifestReference = (ref: OciReference): string => ref.digest ?? ref.tag ?? 'latest';

/** `host[:port]/repository[:tag][@digest]`, as written by users. */
export const formatOciReference = (ref: OciReference): string =>
  `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;

/** Where the registry's API is: Docker Hub's name is not its API host. */
export const apiHost = (registry: string): string => (registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry);
