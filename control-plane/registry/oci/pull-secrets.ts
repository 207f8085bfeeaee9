// imagePullSecrets -> registry credentials, as the kubelet's keyring matches them: Secrets of type
// kubernetes.io/dockerconfigjson (`.dockerconfigjson`: {"auths": {KEY: ...}}) or
// kubernetes.io/dockercfg (`.dockercfg`: {KEY: ...}); KEY is a host[:port], possibly with a scheme,
// a path or a `*.` wildcard label; an entry holds username/password, `auth` (base64 user:pass) or
// an identitytoken. Every matching entry is a candidate, most specific first.
import type { RegistryCredentials } from './registry-auth.js';

export interface PullSecret {
  type?: string;
  /** base64 values, as the API serves them */
  data?: Record<string, string>;
}

export class InvalidPullSecretError extends Error {
  override readonly name = 'InvalidPullSecretError';
}

interface AuthEntry { username?: unknown; password?: unknown; auth?: unknown; identitytoken?: unknown }

const MAX_CONFIG_BYTES = 1 << 20;

/** The credentials for `registry` (host[:port]) found in `secrets`, in the order to try them. */
export function credentialsFor(registry: string, secrets: ReadonlyArray<{ name: string; secret: PullSecret }>): RegistryCredentials[] {
  const found: Array<{ specificity: number; credentials: RegistryCredentials }> = [];
  for (const { name, secret } of secrets) {
    for (const [key, entry] of Object.entries(authEntries(name, secret))) {
      const specificity = matchKey(key, registry);
      if (specificity < 0) continue;
      const credentials = entryCredentials(name, key, entry);
      if (credentials) found.push({ specificity, credentials });
    }
  }
  return found.sort((a, b) => b.specificity - a.specificity).map((f) => f.credentials);
}

function authEntries(name: string, secret: PullSecret): Record<string, AuthEntry> {
  const encoded = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
  if (encoded === undefined) return {};
  if (encoded.length > MAX_CONFIG_BYTES) throw new InvalidPullSecretError(`imagePullSecret ${name} is larger than ${MAX_CONFIG_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw new InvalidPullSecretError(`imagePullSecret ${name} does not hold a Docker config (not JSON)`);
  }
  const auths = secret.data?.['.dockerconfigjson'] !== undefined ? (doc as { auths?: unknown } | null)?.auths : doc;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) return {};
  return auths as Record<string, AuthEntry>;
}

function entryCredentials(name: string, key: string, entry: AuthEntry): RegistryCredentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) return { identityToken: entry.identitytoken };
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidPullSecretError(`imagePullSecret ${name}: the auth of ${key.slice(0, 100)} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/** -1: no match; otherwise how specific the key is (an exact host beats a wildcard). */
export function matchKey(key: string, registry: string): number {
  let host = key.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, ''); // scheme
  host = host.split('/')[0] ?? '';
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  const target = registry.toLowerCase();
  if (host === target) return 2;
  if (!host.startsWith('*.')) return -1;
  // `*.example.com` matches one label: a.example.com, not example.com nor a.b.example.com (ports must match)
  const [pattern, patternPort] = host.slice(2).split(':') as [string, string | undefined];
  const [name, port] = target.split(':') as [string, string | undefined];
  const dot = name.indexOf('.');
  if (dot < 0 || patternPort !== port) return -1;
  return name.slice(dot + 1) === pattern ? 1 : -1;
}
