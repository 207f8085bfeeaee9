// Pod admission reads LimitRanges, ResourceQuotas and PriorityClasses without ResourceStore.list and
// decodes them once per change; its answers follow every write at once (no informer lag).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { AdmissionReads } from '../../../control-plane/resources/admission-reads.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { openWatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { FakeClock } from '../../support/fake-clock.js';
import { seededRandom } from '../../support/seeded-random.js';
import { aPod } from '../support/test-resources.js';

const aClass = (name: string, value: number, more: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...more }) as KubeObject;
const aRange = (name: string, namespace: string, cpu: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name, namespace }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu } }] } }) as KubeObject;

describe.each([['the watch cache', true], ['SQLite', false]] as const)('admission reads over %s', (_name, cached) => {
  let store: Store;
  let resources: ResourceStore;
  beforeEach(async () => {
    const sqlite = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    store = cached ? await openWatchCache(sqlite) : sqlite;
    resources = new ResourceStore(store, { clock: new FakeClock() });
    await ensureInitialNamespaces(resources);
  });
  afterEach(async () => { await store.close(); });

  it('answers as a list does after random writes, decoding again only what changed', async () => {
    const reads = new AdmissionReads(store);
    const next = seededRandom(7);
    const names = ['a', 'b', 'c', 'd'];
    for (let step = 0; step < 80; step++) {
      const name = names[Math.floor(next() * names.length)]!;
      const exists = await resources.get(resourceTypes.limitranges, 'default', name).then(() => true, () => false);
      if (!exists) await resources.create(resourceTypes.limitranges, aRange(name, 'default', `${step + 1}m`));
      else if (next() < 0.4) await resources.delete(resourceTypes.limitranges, 'default', name);
      else await resources.mutate<KubeObject>(resourceTypes.limitranges, 'default', name, (r) => ({ ...r, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: `${step + 1}m` } }] } }) as KubeObject);
      const listed = (await resources.list(resourceTypes.limitranges, { namespace: 'default' })).items;
      const first = await reads.list(resourceTypes.limitranges, 'default');
      expect(first).toEqual(listed);
      // unchanged: the same decoded (frozen) objects, no decode
      const again = await reads.list(resourceTypes.limitranges, 'default');
      if (listed.length) expect(again).toBe(first);
      expect(Object.isFrozen(again[0] ?? {})).toBe(true);
    }
    expect(await reads.list(resourceTypes.limitranges, 'kube-system')).toEqual([]);
  });

  it('a pod create sees a new default PriorityClass and LimitRange at once, and their removal', async () => {
    const priority = async (name: string) => (await resources.create<Pod>(resourceTypes.pods, aPod(name))).spec.priority;
    expect(await priority('p0')).toBe(0);
    await resources.create(resourceTypes.priorityclasses, aClass('high', 1000, { globalDefault: true }));
    expect(await priority('p1')).toBe(1000);
    await resources.create(resourceTypes.limitranges, aRange('cpu', 'default', '250m'));
    const limited = await resources.create<Pod>(resourceTypes.pods, aPod('p2'));
    expect(limited.spec.containers[0]!.resources?.requests).toEqual({ cpu: '250m' });
    await resources.delete(resourceTypes.priorityclasses, undefined, 'high');
    await resources.delete(resourceTypes.limitranges, 'default', 'cpu');
    const plain = await resources.create<Pod>(resourceTypes.pods, aPod('p3'));
    expect(plain.spec.priority).toBe(0);
    expect(plain.spec.containers[0]!.resources?.requests).toBeUndefined();
    await expect(resources.create(resourceTypes.pods, { ...aPod('p4'), spec: { ...aPod('p4').spec, priorityClassName: 'high' } })).rejects.toThrow(/no PriorityClass with name high/);
  });

  it(`pod creates see their namespace turn terminating at once${cached ? ', decoding it once per change of it' : ''}`, async () => {
    await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'busy' } });
    await resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'busy' } });
    const parse = vi.spyOn(JSON, 'parse');
    const namespaceDecodes = () => parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes('"kind":"Namespace"')).length;
    try {
      for (let i = 0; i < 20; i++) await resources.create(resourceTypes.pods, { ...aPod(`p${i}`), metadata: { name: `p${i}`, namespace: 'busy' } } as Pod);
      // each create asks twice (before service account admission and before the write): 40 decodes
      // without the cache's decoded values (SQLite decodes what it reads)
      if (cached) expect(namespaceDecodes()).toBeLessThanOrEqual(1);
      await resources.delete(resourceTypes.namespaces, undefined, 'busy'); // marks it (finalizers): terminating
      await expect(resources.create(resourceTypes.pods, { ...aPod('late'), metadata: { name: 'late', namespace: 'busy' } } as Pod))
        .rejects.toThrow(/because it is being terminated/);
    } finally {
      parse.mockRestore();
    }
  });
});
