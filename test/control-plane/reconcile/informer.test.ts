import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { SharedInformers } from '../../../control-plane/reconcile/shared-informers.js';
import type { Informer, InformerEventType } from '../../../control-plane/reconcile/informer.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { seededRandom } from '../../support/seeded-random.js';
import { openWatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });

/** Waits (no sleeps) until `check` holds, re-checking after each informer event. */
async function until(informer: Informer<Pod>, check: () => boolean, what: string): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`timed out waiting for ${what}`)); }, 20_000);
    const stop = informer.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      queueMicrotask(stop);
      resolve();
    }, false);
  });
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();

describe('informers', () => {
  let t: TestResources;
  let informers: SharedInformers;
  beforeEach(async () => {
    t = await openTestResources();
    informers = new SharedInformers({ resources: t.resources, clock: t.clock, logger });
  });
  afterEach(async () => {
    informers.stop();
    await t.close();
  });

  it('holds the first list, then follows changes, indexed by namespace, owner, node and label', async () => {
    await t.resources.create(resourceTypes.pods, aPod('a', { labels: { app: 'web' }, nodeName: 'n1' }));
    const pods = informers.for<Pod>(resourceTypes.pods);
    expect(informers.for<Pod>(resourceTypes.pods)).toBe(pods); // one per kind
    await pods.synced();
    expect(names(pods.list())).toEqual(['a']);
    const owned = { ...aPod('b', { labels: { app: 'web', tier: 'x' }, nodeName: 'n2' }), metadata: { name: 'b', namespace: 'default', labels: { app: 'web', tier: 'x' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'owner-1', controller: true }] } };
    await t.resources.create(resourceTypes.pods, owned);
    // read-your-writes: the create is held as soon as it resolved
    expect(names(pods.list())).toEqual(['a', 'b']);
    expect(names(pods.byIndex('node', 'n2'))).toEqual(['b']);
    expect(names(pods.byIndex('owner', 'owner-1'))).toEqual(['b']);
    expect(names(pods.byIndex('namespace', 'default'))).toEqual(['a', 'b']);
    expect(names(pods.byLabels('default', { app: 'web' }))).toEqual(['a', 'b']);
    expect(names(pods.byLabels('default', { app: 'web', tier: 'x' }))).toEqual(['b']);
    expect(names(pods.byLabels('other', { app: 'web' }))).toEqual([]);
    // relabelled: the index follows
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'b', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'db' } } }));
    expect(names(pods.byLabels('default', { app: 'web' }))).toEqual(['a']);
    expect(names(pods.byLabels('default', { app: 'db' }))).toEqual(['b']);
    await t.resources.delete(resourceTypes.pods, 'default', 'a', { gracePeriodSeconds: 0 });
    expect(pods.get('default', 'a')).toBeUndefined();
    expect(pods.byIndex('node', 'n1')).toEqual([]);
  });

  it('hands out frozen objects: a reader that changes one fails instead of changing everybody\'s', async () => {
    await t.resources.create(resourceTypes.pods, aPod('a'));
    const pods = informers.for<Pod>(resourceTypes.pods);
    await pods.synced();
    const pod = pods.get('default', 'a')!;
    expect(() => { (pod.metadata as { name?: string }).name = 'x'; }).toThrow(TypeError);
    expect(() => { pod.spec.containers.push({ name: 'y', image: 'y' }); }).toThrow(TypeError);
  });

  it('never lets a late watch event take back a newer write, and tells each change to subscribers once', async () => {
    const pods = informers.for<Pod>(resourceTypes.pods);
    await pods.synced();
    const seen: Array<[InformerEventType, string, string | undefined]> = [];
    pods.subscribe((type, pod) => seen.push([type, pod.metadata.name!, pod.metadata.resourceVersion]));
    const created = await t.resources.create<Pod>(resourceTypes.pods, aPod('a'));
    const updated = await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'a', (p) => ({ ...p, metadata: { ...p.metadata, labels: { v: '2' } } }));
    await t.resources.delete(resourceTypes.pods, 'default', 'a', { gracePeriodSeconds: 0 });
    await t.resources.create<Pod>(resourceTypes.pods, aPod('end'));
    await until(pods, () => seen.some(([, n]) => n === 'end'), 'the last create');
    // the watch brings every event again after the writes showed them: none is told twice or goes back
    const ofA = seen.filter(([, n]) => n === 'a');
    expect(ofA.slice(0, 2)).toEqual([['ADDED', 'a', created.metadata.resourceVersion], ['MODIFIED', 'a', updated.metadata.resourceVersion]]);
    // the deletion is told once: by the write (the object as it was) or by its event, whichever came first
    expect(ofA.slice(2).map(([type]) => type)).toEqual(['DELETED']);
    expect(pods.get('default', 'a')).toBeUndefined();
  });

  it('agrees with the store after a seeded storm of creates, relabels, rebinds and deletes', async () => {
    const next = seededRandom(13);
    const pods = informers.for<Pod>(resourceTypes.pods);
    await pods.synced();
    const live = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const name = `p${Math.floor(next() * 40)}`;
      const r = next();
      if (!live.has(name)) {
        await t.resources.create(resourceTypes.pods, aPod(name, { labels: { app: `a${Math.floor(next() * 3)}` } }));
        live.add(name);
      } else if (r < 0.4) {
        await t.resources.mutate<Pod>(resourceTypes.pods, 'default', name, (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: `a${Math.floor(next() * 3)}` } } }));
      } else if (r < 0.6) {
        await t.resources.mutate<Pod>(resourceTypes.pods, 'default', name, (p) => (p.spec.nodeName ? undefined : { ...p, spec: { ...p.spec, nodeName: `n${Math.floor(next() * 4)}` } }));
      } else {
        await t.resources.delete(resourceTypes.pods, 'default', name, { gracePeriodSeconds: 0 });
        live.delete(name);
      }
    }
    await t.resources.create(resourceTypes.pods, aPod('sentinel'));
    await until(pods, () => Boolean(pods.get('default', 'sentinel')), 'the sentinel');
    const stored = (await t.resources.list<Pod>(resourceTypes.pods)).items;
    const byKey = (ps: Pod[]) => ps.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}:${p.spec.nodeName ?? ''}:${p.metadata.labels?.['app'] ?? ''}`).sort();
    expect(byKey(pods.list())).toEqual(byKey(stored));
    for (const app of ['a0', 'a1', 'a2']) expect(names(pods.byLabels('default', { app }))).toEqual(names(stored.filter((p) => p.metadata.labels?.['app'] === app)));
    for (const node of ['n0', 'n1', 'n2', 'n3']) expect(names(pods.byIndex('node', node))).toEqual(names(stored.filter((p) => p.spec.nodeName === node)));
  });

  it('lists again when its watch ends, and reports what changed meanwhile', async () => {
    await t.resources.create(resourceTypes.pods, aPod('a'));
    const handles: Array<{ cancel(): void; fail: (error: Error) => void }> = [];
    const watch = t.resources.watch.bind(t.resources);
    t.resources.watch = ((type, opts, onEvent, onError) => {
      const handle = watch(type, opts, onEvent, onError);
      handles.push({ cancel: () => handle.cancel(), fail: onError });
      return handle;
    }) as typeof t.resources.watch;
    const pods = informers.for<Pod>(resourceTypes.pods);
    await pods.synced();
    const events: string[] = [];
    pods.subscribe((type, pod) => events.push(`${type} ${pod.metadata.name}`), false);
    // the watch goes silent; meanwhile another writer (no read-your-writes for it) changes the pods
    handles[0]!.cancel();
    const other = new ResourceStore(t.store, { clock: t.clock });
    await other.create(resourceTypes.pods, aPod('b'));
    await other.delete(resourceTypes.pods, 'default', 'a', { gracePeriodSeconds: 0 });
    expect(names(pods.list())).toEqual(['a']);
    handles[0]!.fail(new Error('watch closed'));
    t.clock.advance(1000); // the restart delay, on the injected clock
    await until(pods, () => names(pods.list()).join() === 'b', 'the relist');
    expect(events.sort()).toEqual(['ADDED b', 'DELETED a']);
    expect(handles).toHaveLength(2);
  });

  for (const cached of [false, true]) {
    it(`takes each write of its own process once, parsed from the watch or copied from the write, not both (${cached ? 'watch cache' : 'bare store'})`, async () => {
      const store = cached ? await openWatchCache(t.store) : t.store;
      const resources = cached ? new ResourceStore(store, { clock: t.clock }) : t.resources;
      const own = new SharedInformers({ resources, clock: t.clock, logger });
      const pods = own.for<Pod>(resourceTypes.pods);
      await pods.synced();
      const other = new ResourceStore(store, { clock: t.clock }); // another writer: its writes come by the watch only
      let taken = 0;
      const isMine = (text: string) => text.includes('"name":"mine"');
      const parse = JSON.parse;
      const clone = globalThis.structuredClone;
      JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
        if (isMine(String(text))) taken++;
        return parse(text, reviver);
      }) as typeof JSON.parse;
      globalThis.structuredClone = (<T>(value: T, options?: Parameters<typeof structuredClone>[1]): T => {
        const meta = (value as Pod | undefined)?.metadata;
        if (meta?.name === 'mine' && meta.resourceVersion) taken++; // the written object (a create's input has none)
        return clone(value, options);
      }) as typeof structuredClone;
      try {
        await resources.create(resourceTypes.pods, aPod('mine'));
        await other.create(resourceTypes.pods, aPod('theirs'));
        // events come in revision order: once the later one is held, the earlier one was delivered
        await until(pods, () => pods.get('default', 'theirs') !== undefined, 'the other writer\'s pod');
      } finally {
        JSON.parse = parse;
        globalThis.structuredClone = clone;
        own.stop();
      }
      expect(taken).toBe(1);
      expect(pods.get('default', 'mine')?.metadata.name).toBe('mine');
    });
  }
});
