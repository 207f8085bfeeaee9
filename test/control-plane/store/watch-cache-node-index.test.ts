// The watch cache indexes pods by node (as kube's does by spec.nodeName): a node's pods are read
// from the index, not by scanning every pod, and always agree with a scan.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { collectionPrefix } from '../../../control-plane/resources/resource-keys.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { openWatchCache, type WatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { FakeClock } from '../../support/fake-clock.js';
import { seededRandom } from '../../support/seeded-random.js';
import { aPod } from '../support/test-resources.js';

const pods = resourceTypes.pods;

describe('the watch cache\'s pod index by node', () => {
  let cache: WatchCache;
  let resources: ResourceStore;
  beforeEach(async () => {
    cache = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
    resources = new ResourceStore(cache, { clock: new FakeClock() });
    await ensureInitialNamespaces(resources);
    await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'other' } }); // what the ServiceAccount controller would create
  });
  afterEach(async () => { await cache.close(); });

  const onNode = async (node: string, namespace?: string) =>
    (await resources.list<Pod>(pods, { fieldSelector: `spec.nodeName=${node}`, ...(namespace ? { namespace } : {}) })).items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const scanned = async (node: string, namespace?: string) =>
    (await resources.list<Pod>(pods, namespace ? { namespace } : {})).items.filter((p) => p.spec.nodeName === node).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

  it('answers a node\'s pods from the index: only that node\'s values are read', async () => {
    await resources.create(pods, aPod('a', { nodeName: 'n1' }));
    await resources.create(pods, aPod('b', { nodeName: 'n2' }));
    await resources.create(pods, aPod('c'));
    const hinted = await cache.list(collectionPrefix(pods), { containing: '"nodeName":"n1"' });
    expect(hinted.items.map((kv) => kv.key)).toEqual([`${collectionPrefix(pods)}default/a`]);
    expect(await onNode('n1')).toEqual(['default/a']);
    // paged lists and other stores ignore the hint: callers filter what they get
    expect((await cache.list(collectionPrefix(pods), { containing: '"nodeName":"n1"', limit: 10 })).items).toHaveLength(3);
  });

  it('follows binds, deletes and other namespaces, and agrees with a scan after random changes', async () => {
    const next = seededRandom(10);
    const nodes = ['n1', 'n2', 'n3'];
    const names: Array<[string, string]> = [];
    for (let i = 0; i < 120; i++) {
      const namespace = next() < 0.3 ? 'other' : 'default';
      const bound = next() < 0.5;
      await resources.create(pods, aPod(`p${i}`, { namespace, ...(bound ? { nodeName: nodes[i % 3]! } : {}) }));
      names.push([namespace, `p${i}`]);
    }
    for (let step = 0; step < 150; step++) {
      const [namespace, name] = names[Math.floor(next() * names.length)]!;
      const pod = await resources.get<Pod>(pods, namespace, name).catch(() => undefined);
      if (!pod) continue;
      if (!pod.spec.nodeName && next() < 0.7) {
        await resources.mutate<Pod>(pods, namespace, name, (p) => ({ ...p, spec: { ...p.spec, nodeName: nodes[step % 3]! } }));
      } else if (next() < 0.5) {
        await resources.delete(pods, namespace, name, { gracePeriodSeconds: 0 });
      } else {
        // a label that spells a node name: in the index as well, filtered out by the caller
        await resources.mutate<Pod>(pods, namespace, name, (p) => ({ ...p, metadata: { ...p.metadata, labels: { nodeName: 'n1' } } }));
      }
    }
    for (const node of [...nodes, 'n4']) {
      expect(await onNode(node)).toEqual(await scanned(node));
      expect(await onNode(node, 'other')).toEqual(await scanned(node, 'other'));
    }
    expect((await onNode('n1')).length).toBeGreaterThan(10);
  });
});
