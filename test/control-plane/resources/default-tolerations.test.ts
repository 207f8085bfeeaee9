import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { aPod } from '../support/test-resources.js';

const tolerationSecondsOf = (pod: Pod, key: string) => pod.spec.tolerations?.find((t) => t['key'] === key)?.['tolerationSeconds'];

describe('default toleration seconds (DefaultTolerationSeconds admission)', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const open = async (options: ConstructorParameters<typeof ResourceStore>[1] = {}) => {
    const store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    stores.push(store);
    const resources = new ResourceStore(store, options);
    await ensureInitialNamespaces(resources);
    return resources;
  };

  it('gives every pod 300 s tolerations for not-ready and unreachable nodes by default', async () => {
    const pod = await (await open()).create(resourceTypes.pods, aPod('p'));
    expect(tolerationSecondsOf(pod, 'node.kubernetes.io/not-ready')).toBe(300);
    expect(tolerationSecondsOf(pod, 'node.kubernetes.io/unreachable')).toBe(300);
  });

  it('uses the configured seconds, and keeps a pod\'s own toleration', async () => {
    const resources = await open({ defaultTolerationSeconds: { notReady: 20, unreachable: 5 } });
    const pod = await resources.create(resourceTypes.pods, aPod('p'));
    expect(tolerationSecondsOf(pod, 'node.kubernetes.io/not-ready')).toBe(20);
    expect(tolerationSecondsOf(pod, 'node.kubernetes.io/unreachable')).toBe(5);
    const own = aPod('own');
    own.spec.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }];
    const created = await resources.create(resourceTypes.pods, own);
    expect(tolerationSecondsOf(created, 'node.kubernetes.io/unreachable')).toBe(1);
  });
});
