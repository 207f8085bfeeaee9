// A client of one registry's OCI distribution API (/v2/): manifests by tag or digest, blobs as
// streams, and monolithic blob and manifest uploads (skiff push). Every request goes through the
// registry's authentication (registry-auth.ts); manifests are verified against their digest.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../../api/clock.js';
import { systemClock } from '../../../api/clock.js';
import { parseChallenge, RegistryAuth, type RegistryCredentials } from './registry-auth.js';
import { readBody, registryBaseUrl, registryErrorOf, RegistryError, sendRegistryRequest, type RegistryRequest, type RegistryTransport } from './registry-http.js';
import { apiHost } from './oci-reference.js';

/** Manifests are small JSON documents; the distribution registry itself caps them at 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 << 20;

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  /** sha256 of the bytes as received (checked against a pinned digest and the registry's header). */
  digest: string;
}

export interface DistributionClientOptions {
  credentials?: RegistryCredentials;
  transport: RegistryTransport;
  clock?: Clock;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class DistributionClient {
  readonly #base: string;
  readonly #auth: RegistryAuth;

  constructor(readonly registry: string, private readonly options: DistributionClientOptions) {
    this.#base = registryBaseUrl(apiHost(registry), options.transport);
    this.#auth = new RegistryAuth(options.credentials, options.transport, options.clock ?? systemClock);
  }

  async getManifest(repository: string, reference: string, accept: readonly string[]): Promise<FetchedManifest> {
    const what = `manifest ${this.registry}/${repository}:${reference}`;
    const res = await this.#send(repository, 'pull', `/v2/${repository}/manifests/${reference}`, { method: 'GET', headers: { accept: accept.join(', ') } });
    if (res.statusCode !== 200) throw await registryErrorOf(res, what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw new RegistryError(`${what}: content has digest ${digest}`, 200, 'DIGEST_INVALID');
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new RegistryError(`${what}: the registry says ${header}, the content is ${digest}`, 200, 'DIGEST_INVALID');
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { bytes, mediaType, digest };
  }

  /** The blob's body as a stream (the caller verifies its digest as it reads). */
  async openBlob(repository: string, digest: string): Promise<{ body: IncomingMessage; size: number | undefined }> {
    const res = await this.#send(repository, 'pull', `/v2/${repository}/blobs/${digest}`, { method: 'GET' });
    if (res.statusCode !== 200) throw await registryErrorOf(res, `blob ${this.registry}/${repository}@${digest}`);
    const length = Number(res.headers['content-length']);
    return { body: res, size: Number.isSafeInteger(length) && length >= 0 ? length : undefined };
  }

  async hasBlob(repository: string, digest: string, scope: 'pull' | 'pull,push' = 'pull'): Promise<boolean> {
    const res = await this.#send(repository, scope, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw new RegistryError(`HEAD blob ${this.registry}/${repository}@${digest}: HTTP ${res.statusCode}`, res.statusCode);
  }

  /** Uploads a blob in one PUT (POST opens the upload, PUT ?digest= closes it), unless it is there already. */
  async pushBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    if (await this.hasBlob(repository, digest, 'pull,push')) return digest;
    const opened = await this.#send(repository, 'pull,push', `/v2/${repository}/blobs/uploads/`, { method: 'POST', body: Buffer.alloc(0) });
    if (opened.statusCode !== 202) throw await registryErrorOf(opened, `starting an upload to ${this.registry}/${repository}`);
    opened.resume();
    const location = opened.headers.location;
    if (!location) throw new RegistryError(`${this.registry} opened an upload without a Location`, 202);
    const url = new URL(location, this.#base);
    if (url.origin !== new URL(this.#base).origin) throw new RegistryError(`${this.registry} sent the upload to another origin (${url.origin})`, 202);
    url.searchParams.set('digest', digest);
    const put = await this.#send(repository, 'pull,push', `${url.pathname}${url.search}`, {
      method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes,
    });
    if (put.statusCode !== 201) throw await registryErrorOf(put, `uploading ${digest} to ${this.registry}/${repository}`);
    put.resume();
    return digest;
  }

  async putManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.#send(repository, 'pull,push', `/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: bytes });
    if (res.statusCode !== 201) throw await registryErrorOf(res, `putting the manifest ${this.registry}/${repository}:${tag}`);
    res.resume();
    return sha256(bytes);
  }

  /** One request with the scope's credentials; a 401 is answered once (token or basic) and retried. */
  async #send(repository: string, actions: string, path: string, init: RegistryRequest): Promise<IncomingMessage> {
    const scope = `repository:${repository}:${actions}`;
    const url = new URL(path, this.#base);
    const attempt = () => {
      const authorization = this.#auth.header(scope);
      return sendRegistryRequest(url, { ...init, headers: { ...init.headers, ...(authorization ? { authorization } : {}) } }, this.options.transport);
    };
    const res = await attempt();
    if (res.statusCode !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    res.resume();
    if (!(await this.#auth.answer(challenge, scope))) {
      throw new RegistryError(`${this.registry}/${repository}: unauthorized${this.options.credentials ? ' (the credentials were refused)' : ' (no credentials for this registry: add an imagePullSecret)'}`, 401, 'UNAUTHORIZED');
    }
    const retried = await attempt();
    if (retried.statusCode === 401) {
      retried.resume();
      throw new RegistryError(`${this.registry}/${repository}: unauthorized (the credentials were refused)`, 401, 'UNAUTHORIZED');
    }
    return retried;
  }
}
