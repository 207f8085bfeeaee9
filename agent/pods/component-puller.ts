// Gets a container's component for the pod worker: the digest the control plane resolved its image
// to, loaded by the runtime (which asks for the bytes only when it has not loaded that digest), from
// the agent's disk cache or the control plane's registry; imagePullPolicy Never takes only what the
// node has. Failures are ImagePullErrors with the container's waiting reason.
import type { DesiredPod } from '../../api/mqtt/messages.js';
import type { Container } from '../../api/types/pod.js';
import type { LoadedComponent, PodRuntime } from '../../runtime/pod-runtime.js';
import { DigestMismatchError, InvalidComponentError } from '../../runtime/pod-runtime.js';
import type { PodObserver } from '../agent-metrics.js';
import type { ComponentFetcher, FetchProgress } from '../component-fetcher.js';
import { ImagePullError } from './pod-errors.js';

export class ComponentPuller {
  constructor(private readonly runtime: PodRuntime, private readonly fetcher: ComponentFetcher, private readonly observer: PodObserver | undefined) {}

  async pull(container: Container, desired: DesiredPod, onProgress: FetchProgress): Promise<LoadedComponent> {
    const image = container.image;
    const resolution = desired.images[image];
    if (!resolution) throw new ImagePullError(`image "${image}" was not resolved by the control plane`, false);
    if ('error' in resolution) throw new ImagePullError(resolution.error, false, resolution.reason ? { reason: resolution.reason } : {});
    const startedAt = performance.now();
    let downloaded: number | undefined;
    try {
      // the runtime asks for the bytes only when it has not loaded this digest yet
      const component = await this.runtime.load(resolution.digest, async () => {
        if (container.imagePullPolicy === 'Never') {
          // what the node has, or nothing (the kubelet's ErrImageNeverPull)
          const cached = await this.fetcher.cached(resolution.digest);
          if (!cached) throw new ImagePullError(`Container image "${image}" is not present with pull policy of Never`, false, { reason: 'ErrImageNeverPull' });
          return cached;
        }
        const fetched = await this.fetcher.fetch(resolution.digest, resolution.url, onProgress);
        if (fetched.downloaded) downloaded = fetched.bytes.length;
        return fetched.bytes;
      });
      this.observer?.imagePulled(downloaded === undefined ? 'cached' : 'downloaded', performance.now() - startedAt, downloaded ?? 0);
      return component;
    } catch (error) {
      this.observer?.imagePulled('failed', performance.now() - startedAt, 0);
      if (error instanceof ImagePullError) throw error;
      const retryable = !(error instanceof InvalidComponentError || error instanceof DigestMismatchError);
      const message = error instanceof Error ? error.message : String(error);
      throw new ImagePullError(retryable ? message : `invalid component: ${message}`, retryable, { cause: error });
    }
  }
}
