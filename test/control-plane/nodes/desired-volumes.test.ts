import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredStateMessage } from '../../../api/mqtt/messages.js';
import type { NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import type { Store } from '../../../control-plane/store/store.js';
import type { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../control-plane/resources/kinds/config.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const { persistentvolumeclaims: pvcs, persistentvolumes: pvs } = resourceTypes;
const pinned = (node: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } });

describe('desired state: persistent volumes', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('resolves a pod\'s bound claims to node paths, republishes when a claim binds, and lists the local volumes each node keeps', async () => {
    t = await openTestResources();
    const { resources } = t;
    for (const n of ['n1', 'n2']) await resources.create(resourceTypes.nodes, aNode(n));
    const published: DesiredStateMessage[] = [];
    const channel: NodeChannel = { start: async () => {}, publishDesired: async (m) => { published.push(m); }, publishDesiredPart: async () => {}, clearRetained: async () => {}, retainedNodes: async () => new Set(), call: async () => undefined, stop: async () => {} };
    publisher = new DesiredPublisher({
      resources, channel, ...registryParts(t.store, t.resources), cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    const claim = await resources.create<PersistentVolumeClaim>(pvcs, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '' },
    });
    const pod = aPod('db', { nodeName: 'n1' });
    pod.spec.volumes = [{ name: 'store', persistentVolumeClaim: { claimName: 'data' } }];
    pod.metadata.annotations = { 'skiff.dev/pod-ip': '10.42.1.5' }; // as the scheduler gives it
    await resources.create(resourceTypes.pods, pod);
    await publisher.start();
    const latest = async (node: string, done: (m: DesiredStateMessage) => boolean) => {
      for (let i = 0; i < 200; i++) {
        await publisher!.idle();
        const m = published.filter((x) => x.node === node).at(-1);
        if (m && done(m)) return m;
        await new Promise((r) => setImmediate(r));
      }
      throw new Error(`no such desired state for ${node}`);
    };
    const first = await latest('n1', () => true);
    expect(first.pods[0]?.persistentVolumes).toBeUndefined(); // not bound yet: the agent waits
    expect(first.localVolumes).toEqual([]);

    const path = `/var/lib/skiff/local-path/pvc-${claim.metadata.uid}_default_data`;
    await resources.create<PersistentVolume>(pvs, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path }, nodeAffinity: pinned('n1'), claimRef: { namespace: 'default', name: 'data', uid: claim.metadata.uid } },
    });
    await resources.create<PersistentVolume>(pvs, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-2' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/var/lib/skiff/local-path/other' }, nodeAffinity: pinned('n2') },
    });
    await resources.mutate<PersistentVolumeClaim>(pvcs, 'default', 'data', (c) => ({ ...c, spec: { ...c.spec, volumeName: 'pv-1' } }));
    await resources.mutate<PersistentVolumeClaim>(pvcs, 'default', 'data', (c) => ({ ...c, status: { phase: 'Bound' } }), { subresource: 'status' });
    const bound = await latest('n1', (m) => m.pods[0]?.persistentVolumes !== undefined);
    expect(bound.pods[0]?.persistentVolumes).toEqual({ store: { volumeName: 'pv-1', path } });
    expect(bound.localVolumes).toEqual([path]);
    expect((await latest('n2', (m) => (m.localVolumes ?? []).length > 0)).localVolumes).toEqual(['/var/lib/skiff/local-path/other']);

    await resources.delete(pvs, undefined, 'pv-2');
    expect((await latest('n2', (m) => (m.localVolumes ?? []).length === 0)).localVolumes).toEqual([]);
  });
});

/** The cluster registry (empty) and the resolver over it. */
function registryParts(store: Store, resources: ResourceStore) {
  const registry = new ComponentRegistry(store, '/nonexistent');
  return { registry, images: new ImageResolver({ registry, resources, registryUrl: 'https://cp' }) };
}
