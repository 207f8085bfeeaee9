import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../control-plane/resources/kinds/config.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { ensureDefaultStorageClass } from '../../../control-plane/resources/storage-classes.js';
import { aNode } from '../../support/builders.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { persistentvolumeclaims: pvcs, persistentvolumes: pvs, pods } = resourceTypes;

const withClaim = (name: string, claimName: string): Pod => {
  const pod = aPod(name);
  pod.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
  return pod;
};
const aClaim = (name: string, storageClassName?: string): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
});

describe('scheduling pods with persistentVolumeClaim volumes', () => {
  let h: SchedulerHarness;
  let t: SchedulerHarness['t'];
  beforeEach(async () => {
    h = await startSchedulerHarness(async (r) => {
      await ensureDefaultStorageClass(r.resources);
      for (const n of ['n1', 'n2', 'n3']) await r.resources.create(resourceTypes.nodes, aNode(n));
    });
    t = h.t;
  });
  afterEach(() => h.stop());

  const until = (what: string, done: () => Promise<boolean>) => h.until(what, done);
  const pod = (name: string) => h.pod(name);
  const failures = (name: string) => h.failures(name);

  it('leaves a pod whose claim is missing unschedulable, and schedules it once the claim exists', async () => {
    await t.resources.create(pods, withClaim('web', 'data'));
    await until('FailedScheduling', async () => (await failures('web')).length > 0);
    expect(await failures('web')).toEqual(['0/3 nodes are available: persistentvolumeclaim "data" not found.']);
    expect((await pod('web')).status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    await t.resources.create(pvcs, aClaim('data'));
    await h.pastBackoff(); // the claim's event sends it round once its back-off is over
    await until('bound', async () => Boolean((await pod('web')).spec.nodeName));
    const node = (await pod('web')).spec.nodeName!;
    const claim = await t.resources.get<PersistentVolumeClaim>(pvcs, 'default', 'data');
    expect(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(node);
  });

  it('says when a claim names an unknown class or has no class and no volume (unbound immediate)', async () => {
    await t.resources.create(pvcs, aClaim('fast', 'fast-ssd'));
    await t.resources.create(pvcs, aClaim('plain', ''));
    await t.resources.create(pods, withClaim('a', 'fast'));
    await t.resources.create(pods, withClaim('b', 'plain'));
    await until('both failed', async () => (await failures('a')).length > 0 && (await failures('b')).length > 0);
    expect(await failures('a')).toEqual(['0/3 nodes are available: storageclass.storage.k8s.io "fast-ssd" not found.']);
    expect(await failures('b')).toEqual(['0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.']);
  });

  it('places a pod whose claim is bound on the node its volume is pinned to', async () => {
    const claim = await t.resources.create(pvcs, aClaim('pinned', ''));
    await t.resources.create(pvs, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'on-n3' },
      spec: {
        capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: '/srv/x' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n3'] }] }] } },
        claimRef: { namespace: 'default', name: 'pinned', uid: claim.metadata.uid },
      },
    } satisfies PersistentVolume);
    await t.resources.mutate<PersistentVolumeClaim>(pvcs, 'default', 'pinned', (c) => ({ ...c, spec: { ...c.spec, volumeName: 'on-n3' } }));
    for (const name of ['p1', 'p2']) await t.resources.create(pods, withClaim(name, 'pinned'));
    await until('bound', async () => Boolean((await pod('p1')).spec.nodeName) && Boolean((await pod('p2')).spec.nodeName));
    expect([(await pod('p1')).spec.nodeName, (await pod('p2')).spec.nodeName]).toEqual(['n3', 'n3']);
  });

  it('counts a volume affinity conflict among the other reasons', async () => {
    const claim = await t.resources.create(pvcs, aClaim('gone-node', ''));
    await t.resources.create(pvs, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'on-n9' },
      spec: {
        capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: '/srv/y' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n9'] }] }] } },
        claimRef: { namespace: 'default', name: 'gone-node', uid: claim.metadata.uid },
      },
    } satisfies PersistentVolume);
    await t.resources.mutate<PersistentVolumeClaim>(pvcs, 'default', 'gone-node', (c) => ({ ...c, spec: { ...c.spec, volumeName: 'on-n9' } }));
    await t.resources.create(pods, withClaim('stuck', 'gone-node'));
    await until('FailedScheduling', async () => (await failures('stuck')).length > 0);
    expect(await failures('stuck')).toEqual(['0/3 nodes are available: 3 node(s) had volume node affinity conflict.']);
  });
});
