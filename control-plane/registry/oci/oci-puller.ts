// The control plane's pull-through cache of OCI registries (docs/decisions/008): resolves a Wasm
// component artifact `host/repo:tag` (or `@sha256:`) to its layer's digest with the pod's
// credentials and imagePullPolicy, and pulls the layer once into the cluster's blob store, where
// agents fetch it by digest as they fetch pushed components (streaming it while it arrives).
// What a tag resolved to is kept in the Store with HMACs of the credentials that resolved it: a
// pod may use a cached image only with credentials (or anonymous access) that were shown to work,
// as the kubelet's "ensure secret pulled images" does.
import { createHmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../../api/clock.js';
import type { Store } from '../../store/store.js';
import { KeyExistsError } from '../../store/store.js';
import { BlobDownload } from './blob-download.js';
import { DistributionClient } from './distribution-client.js';
import { formatOciReference, InvalidOciReferenceError, manifestReference, parseOciReference, type OciReference } from './oci-reference.js';
import type { RegistryCredentials } from './registry-auth.js';
import { RegistryError, type RegistryTransport } from './registry-http.js';
import { MANIFEST_ACCEPT, readManifest, UnsupportedArtifactError } from './wasm-artifact.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface PullRequest {
  image: string;
  policy: PullPolicy;
  /** Candidates from the pod's imagePullSecrets, tried in order; none: anonymous. */
  credentials: RegistryCredentials[];
}

export type PullResult =
  | { ok: true; digest: string; size: number; manifestDigest: string }
  | { ok: false; reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string; retryable: boolean };

export interface BlobStore {
  hasBlob(digest: string): Promise<boolean>;
  prepareBlob(digest: string): Promise<{ temporary: string; final: string }>;
}

/** Pull outcomes for metrics: a resolution from the cache or the registry, and layer bytes pulled. */
export interface OciPullObserver {
  resolved(source: 'cache' | 'registry' | 'failed'): void;
  layerPulled(bytes: number, ok: boolean): void;
}

export interface OciPullerOptions {
  store: Store;
  blobs: BlobStore;
  transport: RegistryTransport;
  /** Keys the HMACs of credentials kept with resolutions (the data dir's secret key). */
  credentialKey: Buffer;
  clock: Clock;
  logger: Logger;
  observer?: OciPullObserver;
}

interface Resolution {
  manifestDigest: string;
  layer: { digest: string; size: number };
  /** HMACs of the credentials that read it; 'anonymous' when no credentials were needed. */
  verifiedBy: string[];
  resolvedAt: string;
}

interface Source { client: DistributionClient; repository: string; size: number }

const KEY_PREFIX = '/skiff/registry/oci/';
const ANONYMOUS = 'anonymous';

export class OciPuller {
  readonly #downloads = new Map<string, BlobDownload>();
  /** Where each layer digest can be pulled from (the client holds the credentials that resolved it). */
  readonly #sources = new LRUCache<string, Source>({ max: 10_000 });
  readonly #clients = new LRUCache<string, DistributionClient>({ max: 1_000 });
  readonly #failures = new LRUCache<string, string>({ max: 1_000 });
  readonly #stopping = new AbortController();
  /** Resolutions under way: pods of one Deployment created at once ask the registry once. */
  readonly #resolving = new Map<string, Promise<Resolution>>();

  constructor(private readonly options: OciPullerOptions) {}

  async resolve(request: PullRequest): Promise<PullResult> {
    let ref: OciReference;
    try {
      ref = parseOciReference(request.image);
    } catch (error) {
      return { ok: false, reason: 'InvalidImageName', message: (error as Error).message, retryable: false };
    }
    const key = `${KEY_PREFIX}${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
    const fingerprints = request.credentials.length ? request.credentials.map((c) => this.#fingerprint(c)) : [ANONYMOUS];
    if (request.policy !== 'Always') {
      const cached = await this.#cached(key, fingerprints);
      if (cached) {
        this.options.observer?.resolved('cache');
        return { ok: true, digest: cached.layer.digest, size: cached.layer.size, manifestDigest: cached.manifestDigest };
      }
      if (request.policy === 'Never') {
        this.options.observer?.resolved('failed');
        return { ok: false, reason: 'ErrImageNeverPull', retryable: false, message: `Container image "${request.image}" is not present with pull policy of Never` };
      }
    }
    try {
      const once = `${key}\0${fingerprints.join(',')}`;
      let pending = this.#resolving.get(once);
      if (!pending) {
        pending = this.#pull(ref, key, request.credentials).finally(() => this.#resolving.delete(once));
        this.#resolving.set(once, pending);
      }
      const resolution = await pending;
      this.options.observer?.resolved('registry');
      return { ok: true, digest: resolution.layer.digest, size: resolution.layer.size, manifestDigest: resolution.manifestDigest };
    } catch (error) {
      this.options.observer?.resolved('failed');
      const message = `${formatOciReference(ref)}: ${(error as Error).message}`;
      const permanent = error instanceof UnsupportedArtifactError || error instanceof InvalidOciReferenceError
        || (error instanceof RegistryError && (error.status === 404 || error.code === 'DIGEST_INVALID'));
      return { ok: false, reason: 'ErrImagePull', message, retryable: !permanent };
    }
  }

  /** The layer's bytes while it is being pulled (or pulled again, from where it was resolved); undefined when unknown. */
  openBlob(digest: string): Readable | undefined {
    const download = this.#downloads.get(digest) ?? this.#startDownload(digest);
    return download?.follow();
  }

  /** The size of a layer being pulled. */
  size(digest: string): number | undefined {
    return this.#downloads.get(digest)?.size ?? this.#sources.get(digest)?.size;
  }

  /** Why the last pull of `digest` failed, if it did. */
  failure(digest: string): string | undefined {
    return this.#failures.get(digest);
  }

  /** Stops pulling: layers being pulled are abandoned (their temporary files removed). */
  async close(): Promise<void> {
    this.#stopping.abort();
    await this.idle();
  }

  /** Resolves when no layer is being pulled (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.#downloads.values()].map((d) => d.done.catch(() => undefined)));
  }

  async #cached(key: string, fingerprints: string[]): Promise<Resolution | undefined> {
    const kv = await this.options.store.get(key);
    if (!kv) return undefined;
    const resolution = JSON.parse(kv.value) as Resolution;
    const allowed = resolution.verifiedBy.includes(ANONYMOUS) || fingerprints.some((f) => resolution.verifiedBy.includes(f));
    if (!allowed) return undefined;
    // present = the layer is here or arriving; otherwise it must be pulled (again)
    if (this.#downloads.has(resolution.layer.digest) || (await this.options.blobs.hasBlob(resolution.layer.digest))) return resolution;
    return this.#sources.has(resolution.layer.digest) && this.#startDownload(resolution.layer.digest) ? resolution : undefined;
  }

  /** Tries each candidate's credentials (anonymous without any) until one reads the manifest. */
  async #pull(ref: OciReference, key: string, candidates: RegistryCredentials[]): Promise<Resolution> {
    let lastError: Error | undefined;
    for (const credentials of candidates.length ? candidates : [undefined]) {
      try {
        return await this.#pullWith(ref, key, credentials);
      } catch (error) {
        lastError = error as Error;
        const refused = error instanceof RegistryError && (error.status === 401 || error.status === 403);
        if (!refused) throw error;
      }
    }
    throw lastError!;
  }

  async #pullWith(ref: OciReference, key: string, credentials: RegistryCredentials | undefined): Promise<Resolution> {
    const fingerprint = credentials ? this.#fingerprint(credentials) : ANONYMOUS;
    const client = this.#client(ref.registry, credentials, fingerprint);
    let manifest = await client.getManifest(ref.repository, manifestReference(ref), MANIFEST_ACCEPT);
    let content = readManifest(manifest.bytes, manifest.mediaType);
    if (content.kind === 'index') {
      manifest = await client.getManifest(ref.repository, content.manifestDigest, MANIFEST_ACCEPT);
      content = readManifest(manifest.bytes, manifest.mediaType);
      if (content.kind === 'index') throw new UnsupportedArtifactError('an image index names another index');
    }
    const layer = { digest: content.layer.digest, size: content.layer.size };
    this.#sources.set(layer.digest, { client, repository: ref.repository, size: layer.size });
    if (!(await this.options.blobs.hasBlob(layer.digest))) this.#startDownload(layer.digest);
    return this.#record(key, { manifestDigest: manifest.digest, layer }, fingerprint);
  }

  /** Stores what the reference resolved to, adding this credential to those that verified it. */
  async #record(key: string, found: Pick<Resolution, 'manifestDigest' | 'layer'>, fingerprint: string): Promise<Resolution> {
    const { store } = this.options;
    for (;;) {
      const current = await store.get(key);
      const previous = current ? (JSON.parse(current.value) as Resolution) : undefined;
      // a tag that moved forgets who verified the old content
      const kept = previous && previous.manifestDigest === found.manifestDigest ? previous.verifiedBy : [];
      const resolution: Resolution = {
        ...found, verifiedBy: [...new Set([...kept, fingerprint])].slice(-32), resolvedAt: new Date(this.options.clock.now()).toISOString(),
      };
      try {
        if (current) await store.update(key, JSON.stringify(resolution), current.modRevision);
        else await store.create(key, JSON.stringify(resolution));
        return resolution;
      } catch (error) {
        if (!(error instanceof KeyExistsError) && (error as Error).name !== 'RevisionMismatchError') throw error;
      }
    }
  }

  #startDownload(digest: string): BlobDownload | undefined {
    if (this.#stopping.signal.aborted) return undefined;
    const existing = this.#downloads.get(digest);
    if (existing) return existing;
    const source = this.#sources.get(digest);
    if (!source) return undefined;
    this.#failures.delete(digest);
    const download = new BlobDownload(digest, source.size, () => this.options.blobs.prepareBlob(digest),
      async () => (await source.client.openBlob(source.repository, digest)).body, this.#stopping.signal);
    this.#downloads.set(digest, download);
    download.done.then(() => {
      this.options.observer?.layerPulled(source.size, true);
      this.options.logger.info({ digest, bytes: source.size }, 'pulled a component from an OCI registry');
    }, (error: Error) => {
      this.#failures.set(digest, error.message);
      this.options.observer?.layerPulled(0, false);
      this.options.logger.warn({ digest, err: error.message }, 'could not pull a component from an OCI registry');
    }).finally(() => this.#downloads.delete(digest));
    return download;
  }

  #client(registry: string, credentials: RegistryCredentials | undefined, fingerprint: string): DistributionClient {
    const key = `${registry}\0${fingerprint}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = new DistributionClient(registry, { ...(credentials ? { credentials } : {}), transport: this.options.transport, clock: this.options.clock });
      this.#clients.set(key, client);
    }
    return client;
  }

  #fingerprint(credentials: RegistryCredentials): string {
    return createHmac('sha256', this.options.credentialKey).update(JSON.stringify(credentials)).digest('base64url');
  }
}
