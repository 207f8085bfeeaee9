import { describe, expect, it } from 'vitest';
import { ComponentFetcher, type FetchedComponent, type FetchProgress } from '../../agent/component-fetcher.js';
import { ComponentPuller } from '../../agent/pods/component-puller.js';
import { ImagePullError } from '../../agent/pods/pod-errors.js';
import { pullProgress } from '../../agent/pods/pull-progress.js';
import type { DesiredPod } from '../../api/mqtt/messages.js';
import type { LoadedComponent, PodRuntime } from '../../runtime/pod-runtime.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const BYTES = new Uint8Array([0, 97, 115, 109]);

class FakeFetcher extends ComponentFetcher {
  onDisk: Uint8Array | undefined;
  fetched = 0;
  constructor() { super({ token: 't' }); }
  override async fetch(_d: string, _u: string, onProgress?: FetchProgress): Promise<FetchedComponent> {
    this.fetched++;
    onProgress?.(2 << 20, 4 << 20);
    return { bytes: BYTES, downloaded: true };
  }
  override async cached(): Promise<Uint8Array | undefined> { return this.onDisk; }
}

const runtime = { load: async (digest: string, bytes: () => Promise<Uint8Array>) => ({ digest, bytes: await bytes() }) } as unknown as PodRuntime;
const desired = (images: DesiredPod['images']) => ({ images } as unknown as DesiredPod);

describe('component puller', () => {
  it('fetches the resolved digest, reporting progress, and passes on why an image could not be resolved', async () => {
    const fetcher = new FakeFetcher();
    const puller = new ComponentPuller(runtime, fetcher, undefined);
    const progress: number[] = [];
    const loaded = await puller.pull({ name: 'c', image: 'r.io/a:v1' }, desired({ 'r.io/a:v1': { digest: DIGEST, url: 'https://cp/x' } }), (r) => progress.push(r));
    expect((loaded as LoadedComponent).digest).toBe(DIGEST);
    expect(progress).toEqual([2 << 20]);
    const never = puller.pull({ name: 'c', image: 'r.io/b:v1' }, desired({ 'r.io/b:v1': { error: 'nope', reason: 'ErrImageNeverPull' } }), () => {});
    await expect(never).rejects.toMatchObject({ name: 'ImagePullError', reason: 'ErrImageNeverPull', message: 'nope' });
    await expect(puller.pull({ name: 'c', image: 'x' }, desired({}), () => {})).rejects.toBeInstanceOf(ImagePullError);
  });

  it('with imagePullPolicy Never takes only what the node has', async () => {
    const fetcher = new FakeFetcher();
    const puller = new ComponentPuller(runtime, fetcher, undefined);
    const container = { name: 'c', image: 'examples/a:v1', imagePullPolicy: 'Never' as const };
    const images = desired({ 'examples/a:v1': { digest: DIGEST, url: 'https://cp/x' } });
    await expect(puller.pull(container, images, () => {})).rejects.toMatchObject({ reason: 'ErrImageNeverPull', message: 'Container image "examples/a:v1" is not present with pull policy of Never' });
    fetcher.onDisk = BYTES;
    await expect(puller.pull(container, images, () => {})).resolves.toMatchObject({ digest: DIGEST });
    expect(fetcher.fetched).toBe(0);
  });

  it('reports progress at each quarter of a large download only', () => {
    const seen: string[] = [];
    const report = pullProgress((m) => seen.push(m));
    const total = 8 << 20;
    for (let received = 0; received <= total; received += 1 << 19) report(received, total);
    expect(seen).toEqual(['25% (2.0 MiB of 8.0 MiB)', '50% (4.0 MiB of 8.0 MiB)', '75% (6.0 MiB of 8.0 MiB)']);
    const small = pullProgress((m) => seen.push(m));
    small(500_000, 900_000);
    small(100, undefined);
    expect(seen).toHaveLength(3);
  });
});
