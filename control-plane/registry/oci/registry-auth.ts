// Registry authentication as the distribution spec defines it: a 401 carries a WWW-Authenticate
// challenge; `Basic` is answered with the credentials, `Bearer` with a token from the realm (token
// server), asked with the credentials (or anonymously) for the repository scope. Tokens are cached
// per scope until they expire.
import type { Clock } from '../../../api/clock.js';
import { isAllowedUrl, readBody, RegistryError, sendRegistryRequest, type RegistryTransport } from './registry-http.js';

export type RegistryCredentials = { username: string; password: string } | { identityToken: string };

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted or token values). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header || header.length > 4096) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const param = /\s*([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?/gy;
  for (let m = param.exec(match![2]!); m; m = param.exec(match![2]!)) {
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme, params };
}

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export class RegistryAuth {
  readonly #tokens = new Map<string, { header: string; expiresAtMs: number }>();
  #basic = false;

  constructor(private readonly credentials: RegistryCredentials | undefined, private readonly transport: RegistryTransport, private readonly clock: Clock) {}

  /** The Authorization header to send for `scope`, if one is known. */
  header(scope: string): string | undefined {
    if (this.#basic) return this.#basicHeader();
    const token = this.#tokens.get(scope);
    if (token && token.expiresAtMs > this.clock.now()) return token.header;
    return undefined;
  }

  /** Answers a 401's challenge: true when a retry with header(scope) may succeed. */
  async answer(challenge: Challenge | undefined, scope: string): Promise<boolean> {
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (!this.credentials || !('username' in this.credentials) || this.#basic) return false;
      this.#basic = true;
      return true;
    }
    const realm = challenge.params['realm'];
    if (!realm) throw new RegistryError('the registry asked for a bearer token without naming a realm', 401);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`the registry's token realm "${realm.slice(0, 100)}" is not a URL`, 401);
    }
    if (!isAllowedUrl(url, this.transport)) throw new RegistryError(`refusing token realm ${url.origin}: only https, or http to a registry listed as insecure`, 401);
    const wantedScope = challenge.params['scope'] ?? scope;
    const token = await this.#fetchToken(url, challenge.params['service'], wantedScope);
    this.#tokens.set(scope, token);
    return true;
  }

  async #fetchToken(realm: URL, service: string | undefined, scope: string): Promise<{ header: string; expiresAtMs: number }> {
    const creds = this.credentials;
    let res;
    if (creds && 'identityToken' in creds) {
      // an OAuth2 refresh token (docker login with an identity token)
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'skiff', scope, ...(service ? { service } : {}) });
      res = await sendRegistryRequest(realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) }, this.transport);
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      url.searchParams.set('scope', scope);
      res = await sendRegistryRequest(url, { method: 'GET', headers: creds ? { authorization: this.#basicHeader()! } : {} }, this.transport);
    }
    const body = await readBody(res, MAX_TOKEN_RESPONSE_BYTES);
    if (res.statusCode !== 200) throw new RegistryError(`token server ${realm.host} refused ${creds ? 'the credentials' : 'anonymous access'} for ${scope}: HTTP ${res.statusCode}`, 401);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryError(`token server ${realm.host} did not answer JSON`, 401);
    }
    const token = typeof parsed.token === 'string' ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : undefined;
    if (!token || token.length > 16_384 || /[\s]/.test(token)) throw new RegistryError(`token server ${realm.host} sent no usable token`, 401);
    // the spec's default lifetime is 60 s; renew a little early
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? Math.min(parsed.expires_in, 3600) : 60;
    return { header: `Bearer ${token}`, expiresAtMs: this.clock.now() + expiresIn * 1000 - 5_000 };
  }

  #basicHeader(): string | undefined {
    const creds = this.credentials;
    if (!creds || !('username' in creds)) return undefined;
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  }
}
