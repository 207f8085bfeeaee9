// Resolves a pod's container image to what its agent fetches: `{digest, url}` on the cluster's
// registry, or why not. Names of the cluster registry (`NAME[:TAG]`, pushed with `skiff push`) are
// looked up there; OCI references (`host[:port]/repo[:tag|@digest]`) go through the pull-through
// cache with the pod's imagePullSecrets (and its ServiceAccount's) and imagePullPolicy. A pod keeps
// the digest its tag first resolved to for as long as it lives: its containers restart on what
// they ran (a new pod of a Deployment picks up a moved tag).
import { LRUCache } from 'lru-cache';
import { NotFoundError } from '../../api/errors.js';
import type { ImageResolution } from '../../api/mqtt/messages.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { ComponentRegistry } from './component-registry.js';
import { isOciReference } from './oci/oci-reference.js';
import type { OciPuller, PullPolicy } from './oci/oci-puller.js';
import { credentialsFor, InvalidPullSecretError, type PullSecret } from './oci/pull-secrets.js';

type Secret = KubeObject & PullSecret;
type ServiceAccount = KubeObject & { imagePullSecrets?: Array<{ name?: string }> };

export interface ImageResolverOptions {
  registry: ComponentRegistry;
  /** Absent: OCI references are refused with a reason. */
  oci?: OciPuller;
  resources: ResourceStore;
  /** Base URL agents fetch blobs from: `${registryUrl}/registry/v1/blobs/<digest>` */
  registryUrl: string;
}

/** An image that could not be resolved but may be later (registry down, credentials to come). */
export interface Resolved {
  resolution: ImageResolution;
  retryable: boolean;
}

/** Kubernetes' default: Always for :latest or no tag, IfNotPresent otherwise (and for digests). */
export function pullPolicyOf(container: Pick<Container, 'image' | 'imagePullPolicy'>): PullPolicy {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image;
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > lastSlash && image.slice(colon + 1) !== 'latest' ? 'IfNotPresent' : 'Always';
}

export class ImageResolver {
  /** pod uid + image -> what the pod runs (successful OCI resolutions only). */
  readonly #pins = new LRUCache<string, ImageResolution>({ max: 50_000 });

  constructor(private readonly options: ImageResolverOptions) {}

  async resolve(pod: Pod, container: Pick<Container, 'image' | 'imagePullPolicy'>): Promise<Resolved> {
    const image = container.image;
    if (!isOciReference(image)) {
      const found = await this.options.registry.resolve(image);
      return { resolution: 'digest' in found ? this.#at(found.digest) : { error: found.error }, retryable: false };
    }
    const oci = this.options.oci;
    if (!oci) return { resolution: { error: `${image} names an OCI registry, and this control plane does not pull from registries`, reason: 'ErrImagePull' }, retryable: false };
    const policy = pullPolicyOf(container);
    const pin = `${pod.metadata.uid}\0${image}\0${policy}`;
    const pinned = this.#pins.get(pin);
    if (pinned) return { resolution: pinned, retryable: false };
    let credentials;
    try {
      credentials = credentialsFor(image.slice(0, image.indexOf('/')), await this.#pullSecrets(pod));
    } catch (error) {
      if (!(error instanceof InvalidPullSecretError)) throw error;
      return { resolution: { error: error.message, reason: 'ErrImagePull' }, retryable: false };
    }
    const result = await oci.resolve({ image, policy, credentials });
    if (!result.ok) return { resolution: { error: result.message, reason: result.reason }, retryable: result.retryable };
    const resolution = this.#at(result.digest);
    this.#pins.set(pin, resolution);
    return { resolution, retryable: false };
  }

  /** The pod's imagePullSecrets, then its ServiceAccount's (as the ServiceAccount admission adds them); missing ones are skipped, as the kubelet does. */
  async #pullSecrets(pod: Pod): Promise<Array<{ name: string; secret: PullSecret }>> {
    const namespace = pod.metadata.namespace!;
    const names = ((pod.spec['imagePullSecrets'] ?? []) as Array<{ name?: string }>).map((s) => s.name);
    const account = await this.#get<ServiceAccount>(resourceTypes.serviceaccounts, namespace, String(pod.spec['serviceAccountName'] ?? 'default'));
    names.push(...(account?.imagePullSecrets ?? []).map((s) => s.name));
    const secrets: Array<{ name: string; secret: PullSecret }> = [];
    for (const name of new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))) {
      const secret = await this.#get<Secret>(resourceTypes.secrets, namespace, name);
      if (secret) secrets.push({ name, secret });
    }
    return secrets;
  }

  async #get<T extends KubeObject>(type: typeof resourceTypes.secrets | undefined, namespace: string, name: string): Promise<T | undefined> {
    if (!type) return undefined;
    return this.options.resources.get<T>(type, namespace, name).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
  }

  #at(digest: string): ImageResolution {
    return { digest, url: `${this.options.registryUrl}/registry/v1/blobs/${digest}` };
  }
}
