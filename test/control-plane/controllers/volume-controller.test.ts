import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SELECTED_NODE_ANNOTATION } from '../../../api/local-path.js';
import type { Event } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { startControllers, type RunningControllers } from '../../../control-plane/controllers/controller-manager.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../control-plane/resources/kinds/config.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { ensureDefaultStorageClass } from '../../../control-plane/resources/storage-classes.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const { persistentvolumeclaims: pvcs, persistentvolumes: pvs, storageclasses } = resourceTypes;

const aClaim = (name: string, extra: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra },
});

describe('volume controller over the store', () => {
  let t: TestResources;
  let controllers: RunningControllers;
  beforeEach(async () => {
    t = await openTestResources();
    await ensureDefaultStorageClass(t.resources);
    await t.resources.create(resourceTypes.nodes, aNode('edge-1'));
    controllers = startControllers({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
  });
  afterEach(async () => {
    controllers.stop();
    await t.close();
  });

  /** Lets the controllers work until `done` holds (a bounded number of rounds, no sleeping). */
  async function until(what: string, done: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 500; i++) {
      await controllers.idle();
      if (await done()) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`never happened: ${what}`);
  }
  const claim = (name: string) => t.resources.get<PersistentVolumeClaim>(pvcs, 'default', name).catch(() => undefined);
  const volume = (name: string) => t.resources.get<PersistentVolume>(pvs, undefined, name).catch(() => undefined);
  const events = async (name: string) => (await t.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items
    .filter((e) => e.involvedObject.name === name).map((e) => `${e.reason}: ${e.message}`);
  const select = (name: string, node: string) => t.resources.mutate<PersistentVolumeClaim>(pvcs, 'default', name,
    (c) => ({ ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [SELECTED_NODE_ANNOTATION]: node } } }));

  it('gives a claim the default class and its protection finalizer, then waits for a consumer', async () => {
    const created = await t.resources.create(pvcs, aClaim('data'));
    expect(created.spec.storageClassName).toBe('local-path');
    expect(created.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await until('WaitForFirstConsumer event', async () => (await events('data')).length > 0);
    expect(await events('data')).toEqual(['WaitForFirstConsumer: waiting for first consumer to be created before binding']);
    expect((await claim('data'))?.status?.phase).toBe('Pending');
    expect((await t.resources.list(pvs)).items).toHaveLength(0);
  });

  it('provisions a local-path volume on the selected node and binds both ways', async () => {
    const created = await t.resources.create(pvcs, aClaim('data', { accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], resources: { requests: { storage: '2Gi' } } }));
    await select('data', 'edge-1');
    const pvName = `pvc-${created.metadata.uid}`;
    await until('claim bound', async () => (await claim('data'))?.status?.phase === 'Bound');
    const pv = (await volume(pvName))!;
    expect(pv.spec).toMatchObject({
      capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
      hostPath: { path: `/var/lib/skiff/local-path/${pvName}_default_data`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-1'] }] }] } },
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: created.metadata.uid },
    });
    expect(pv.status?.phase).toBe('Bound');
    const bound = (await claim('data'))!;
    expect(bound.spec.volumeName).toBe(pvName);
    expect(bound.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '2Gi' } });
    expect(await events('data')).toContain(`ProvisioningSucceeded: Successfully provisioned volume ${pvName}`);
  });

  it('keeps a deleted claim while a pod uses it, then deletes its volume (reclaim Delete)', async () => {
    const created = await t.resources.create(pvcs, aClaim('data'));
    await select('data', 'edge-1');
    await until('bound', async () => (await claim('data'))?.status?.phase === 'Bound');
    const pod = aPod('user', { nodeName: 'edge-1' });
    pod.spec.volumes = [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }];
    await t.resources.create(resourceTypes.pods, pod);
    await t.resources.delete(pvcs, 'default', 'data');
    await until('claim reconciled', async () => Boolean((await claim('data'))?.metadata.deletionTimestamp));
    await controllers.idle();
    expect((await claim('data'))?.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect(await volume(`pvc-${created.metadata.uid}`)).toBeDefined();
    await t.resources.delete(resourceTypes.pods, 'default', 'user', { gracePeriodSeconds: 0 });
    await until('claim gone', async () => (await claim('data')) === undefined);
    await until('volume deleted', async () => (await volume(`pvc-${created.metadata.uid}`)) === undefined);
  });

  it('provisions on the node of a pod that was bound without the scheduler (spec.nodeName)', async () => {
    const created = await t.resources.create(pvcs, aClaim('direct'));
    const pod = aPod('pinned', { nodeName: 'edge-1' });
    pod.spec.volumes = [{ name: 'd', persistentVolumeClaim: { claimName: 'direct' } }];
    await t.resources.create(resourceTypes.pods, pod);
    await until('bound', async () => (await claim('direct'))?.status?.phase === 'Bound');
    expect((await claim('direct'))?.metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe('edge-1');
    expect((await volume(`pvc-${created.metadata.uid}`))?.spec.nodeAffinity).toBeDefined();
  });

  it('releases a Retain volume instead of deleting it', async () => {
    await t.resources.create(storageclasses, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    const created = await t.resources.create(pvcs, aClaim('kept', { storageClassName: 'keep' }));
    await select('kept', 'edge-1');
    await until('bound', async () => (await claim('kept'))?.status?.phase === 'Bound');
    await t.resources.delete(pvcs, 'default', 'kept');
    await until('released', async () => (await volume(`pvc-${created.metadata.uid}`))?.status?.phase === 'Released');
    expect((await volume(`pvc-${created.metadata.uid}`))?.spec.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  it('binds a claim to a matching static volume (the smallest that fits) and marks unclaimed volumes Available', async () => {
    const staticPv = (name: string, size: string): PersistentVolume => ({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
      spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: `/srv/${name}` } },
    });
    await t.resources.create(pvs, staticPv('big', '10Gi'));
    await t.resources.create(pvs, staticPv('small', '1Gi'));
    await t.resources.create(pvs, staticPv('tiny', '100Mi'));
    await until('available', async () => (await volume('tiny'))?.status?.phase === 'Available');
    await t.resources.create(pvcs, aClaim('static', { storageClassName: '', resources: { requests: { storage: '512Mi' } } }));
    await until('bound', async () => (await claim('static'))?.status?.phase === 'Bound');
    expect((await claim('static'))?.spec.volumeName).toBe('small');
    expect((await volume('small'))?.status?.phase).toBe('Bound');
    expect((await volume('big'))?.status?.phase).toBe('Available');
  });

  it('says why a claim cannot be provisioned: unknown class, no node chosen by an Immediate class', async () => {
    await t.resources.create(pvcs, aClaim('nowhere', { storageClassName: 'fast' }));
    await t.resources.create(storageclasses, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'now' }, provisioner: 'skiff.dev/local-path' });
    await t.resources.create(pvcs, aClaim('immediate', { storageClassName: 'now' }));
    await until('events', async () => (await events('nowhere')).length > 0 && (await events('immediate')).length > 0);
    expect(await events('nowhere')).toEqual(['ProvisioningFailed: storageclass.storage.k8s.io "fast" not found']);
    expect((await events('immediate'))[0]).toMatch(/^ProvisioningFailed: .*volumeBindingMode WaitForFirstConsumer/);
  });

  it('gives the default class to a claim created before any class existed', async () => {
    await t.resources.delete(storageclasses, undefined, 'local-path');
    const created = await t.resources.create(pvcs, aClaim('early'));
    expect(created.spec.storageClassName).toBeUndefined();
    await ensureDefaultStorageClass(t.resources);
    await until('class assigned', async () => (await claim('early'))?.spec.storageClassName === 'local-path');
  });
});

describe('pvc-protection with no pod', () => {
  it('lets an unused claim go at once', async () => {
    const t = await openTestResources();
    const controllers = startControllers({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
    try {
      await t.resources.create(pvcs, aClaim('unused', { storageClassName: '' }));
      const pod = aPod('done');
      pod.spec.volumes = [{ name: 'd', persistentVolumeClaim: { claimName: 'unused' } }];
      await t.resources.create(resourceTypes.pods, pod);
      await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'done', (p) => ({ ...p, status: { phase: 'Succeeded' } }), { subresource: 'status' });
      await t.resources.delete(pvcs, 'default', 'unused');
      let gone = false;
      for (let i = 0; i < 500 && !gone; i++) {
        await controllers.idle();
        gone = await t.resources.get(pvcs, 'default', 'unused').then(() => false, () => true);
        await new Promise((r) => setImmediate(r));
      }
      expect(gone).toBe(true);
    } finally {
      controllers.stop();
      await t.close();
    }
  });
});
