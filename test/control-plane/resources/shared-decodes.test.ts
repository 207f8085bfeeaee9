// One decode per stored value over the watch cache: every watch, the informers, `mutate`'s view of the
// current object and the cache's label index share one frozen object per value, and a reader that
// tries to change it cannot change what the others (or later reads) see.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { Pod } from '../../../api/types/pod.js';
import { SharedInformers } from '../../../control-plane/reconcile/shared-informers.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore, type WatchEventType } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { SharedKeyValue } from '../../../control-plane/store/decoded-value.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { openWatchCache, type WatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { FakeClock } from '../../support/fake-clock.js';
import { aPod, collector } from '../support/test-resources.js';

const pods = resourceTypes.pods;
let cache: WatchCache;
let resources: ResourceStore;
let informers: SharedInformers;
beforeEach(async () => {
  cache = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
  const clock = new FakeClock();
  resources = new ResourceStore(cache, { clock });
  await ensureInitialNamespaces(resources);
  informers = new SharedInformers({ resources, clock, logger: pino({ level: 'silent' }) });
});
afterEach(async () => {
  informers.stop();
  await cache.close();
});

type Seen = [WatchEventType, Pod];

describe('decoded values shared through the watch cache', () => {
  it('hands every watcher the same frozen object, which a reader cannot change for the others', async () => {
    const first = collector<Seen>();
    const second = collector<Seen>();
    const w1 = resources.watch<Pod>(pods, { resourceVersion: String(cache.revision) }, (t, o) => first.push([t, o]), () => {});
    const w2 = resources.watch<Pod>(pods, { resourceVersion: String(cache.revision) }, (t, o) => second.push([t, o]), () => {});
    await resources.create(pods, aPod('a', { labels: { app: 'web' } }));
    const [[, seenByFirst]] = (await first.waitFor(1)) as [Seen];
    const [[, seenBySecond]] = (await second.waitFor(1)) as [Seen];
    expect(seenBySecond).toBe(seenByFirst); // one decode for both
    // a reader that writes into the shared object fails loudly (strict mode) instead of changing it
    expect(() => { seenByFirst.metadata.labels!['app'] = 'changed'; }).toThrow(TypeError);
    expect(() => { seenByFirst.spec.containers[0]!.image = 'evil:1'; }).toThrow(TypeError);
    expect(() => { (seenByFirst.spec as { nodeName?: string }).nodeName = 'n1'; }).toThrow(TypeError);
    expect(seenBySecond.metadata.labels).toEqual({ app: 'web' });
    const read = await resources.get<Pod>(pods, 'default', 'a');
    expect(read.metadata.labels).toEqual({ app: 'web' });
    expect(read.spec.containers[0]!.image).toBe('registry.local/hello:1.0');
    expect((await resources.list<Pod>(pods, { labelSelector: 'app=web' })).items.map((p) => p.metadata.name)).toEqual(['a']);
    // what get hands out is the caller's own: changing it changes nothing stored or shared
    read.metadata.labels!['app'] = 'mine';
    expect(seenByFirst.metadata.labels).toEqual({ app: 'web' });
    expect((await resources.get<Pod>(pods, 'default', 'a')).metadata.labels).toEqual({ app: 'web' });
    w1.cancel();
    w2.cancel();
  });

  it('gives mutate the shared current object and fn a copy of its own', async () => {
    await resources.create(pods, aPod('a'));
    const informer = informers.for<Pod>(pods);
    await informer.synced();
    const held = informer.get('default', 'a')!;
    let given: Pod | undefined;
    const unchanged = await resources.mutate<Pod>(pods, 'default', 'a', (p) => {
      given = p;
      p.metadata.labels = { touched: 'yes' }; // fn's copy is its own to change
      return undefined; // ... and nothing is written
    });
    expect(unchanged).toBe(held); // no write: the stored object, as the informer shares it
    expect(given).not.toBe(held);
    expect(held.metadata.labels).toBeUndefined();
    expect(Object.isFrozen(unchanged.spec)).toBe(true);
  });

  it('parses a stored value once for the label index, the informers and every watch', async () => {
    const informer = informers.for<Pod>(pods);
    await informer.synced();
    const seen = collector<Seen>();
    const w = resources.watch<Pod>(pods, { resourceVersion: String(cache.revision) }, (t, o) => seen.push([t, o]), () => {});
    const parse = vi.spyOn(JSON, 'parse');
    const podParses = () => parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes('"name":"decoded-once"')).length;
    try {
      const created = await resources.create(pods, aPod('decoded-once', { labels: { app: 'web' } }));
      await seen.waitFor(1);
      await vi.waitFor(() => expect(informer.get('default', 'decoded-once')?.metadata.resourceVersion).toBe(created.metadata.resourceVersion));
      // the label index, the informer and the watch: one parse (three without sharing)
      expect(podParses()).toBe(1);
      expect(informer.get('default', 'decoded-once')).toBe(seen.items[0]![1]);
      const written = await resources.mutate<Pod>(pods, 'default', 'decoded-once', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' });
      await seen.waitFor(2);
      await vi.waitFor(() => expect(informer.get('default', 'decoded-once')?.metadata.resourceVersion).toBe(written.metadata.resourceVersion));
      // mutate: the written value once, for the informer and the watch; mutate's current object is
      // the one already decoded and fn's is a copy of it (four parses without sharing)
      expect(podParses()).toBe(2);
      expect(informer.get('default', 'decoded-once')).toBe(seen.items[1]![1]);
    } finally {
      parse.mockRestore();
      w.cancel();
    }
  });

  it('keeps no decoded copy of a value the key no longer has (the event history holds old values)', async () => {
    await resources.create(pods, aPod('a'));
    const first = await cache.get('/registry/core/pods/default/a');
    expect(first).toBeInstanceOf(SharedKeyValue);
    const decoded = (first as SharedKeyValue).decoded();
    expect((first as SharedKeyValue).decoded()).toBe(decoded);
    await resources.mutate<Pod>(pods, 'default', 'a', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' });
    expect((first as SharedKeyValue).isDecoded).toBe(false);
    // a late reader of the old value still gets it, decoded for itself
    expect((first as SharedKeyValue).decoded()).toEqual(decoded);
    expect((first as SharedKeyValue).isDecoded).toBe(false);
    const now = (await cache.get('/registry/core/pods/default/a')) as SharedKeyValue;
    expect((now.decoded() as Pod).status?.phase).toBe('Running');
    expect(now.isDecoded).toBe(true);
  });
});
