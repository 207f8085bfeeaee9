import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../api/errors.js';
import { storageClassPrinter } from '../../../control-plane/api/tables/storage-printers.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../control-plane/resources/kinds/config.js';
import type { StorageClass } from '../../../control-plane/resources/kinds/storage.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { ensureDefaultStorageClass, localPathStorageClass } from '../../../control-plane/resources/storage-classes.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const { storageclasses, persistentvolumes, persistentvolumeclaims } = resourceTypes;
let t: TestResources;
beforeEach(async () => { t = await openTestResources(); });
afterEach(async () => { await t.close(); });

const causesOf = async (p: Promise<unknown>) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).causes.map((c) => `${c.field}: ${c.message}`);
};
const aClass = (name: string, over: Partial<StorageClass> = {}): StorageClass =>
  ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'example.com/disk', ...over });
const aClaim = (name: string, storageClassName?: string): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
});

describe('StorageClass', () => {
  it('is cluster-scoped storage.k8s.io/v1 with short name sc', () => {
    expect(storageclasses).toMatchObject({ group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] });
  });

  it('defaults reclaimPolicy and volumeBindingMode as the real server does', async () => {
    const sc = await t.resources.create<StorageClass>(storageclasses, aClass('disk'));
    expect(sc).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
  });

  it('refuses a missing provisioner and unknown policies, and changes to what is fixed', async () => {
    expect(await causesOf(t.resources.create(storageclasses, { ...aClass('bad'), provisioner: '', reclaimPolicy: 'Recycle' as never, volumeBindingMode: 'Later' as never })))
      .toEqual(['provisioner: Required value', 'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
        'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']);
    await t.resources.create(storageclasses, aClass('disk'));
    expect(await causesOf(t.resources.mutate<StorageClass>(storageclasses, undefined, 'disk', (s) => ({ ...s, provisioner: 'other.io/x', volumeBindingMode: 'WaitForFirstConsumer' }))))
      .toEqual(['provisioner: Forbidden: updates to provisioner are forbidden.', 'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable']);
    const labelled = await t.resources.mutate<StorageClass>(storageclasses, undefined, 'disk', (s) => ({ ...s, metadata: { ...s.metadata, labels: { a: 'b' } }, allowVolumeExpansion: true }));
    expect(labelled.allowVolumeExpansion).toBe(true);
  });

  it('starts with local-path as the default class (created once, a changed one left alone)', async () => {
    await ensureDefaultStorageClass(t.resources);
    await ensureDefaultStorageClass(t.resources);
    const sc = await t.resources.get<StorageClass>(storageclasses, undefined, 'local-path');
    expect(sc).toMatchObject({
      provisioner: 'skiff.dev/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    });
    expect(storageClassPrinter.cells(sc, Date.parse(sc.metadata.creationTimestamp!) + 5000))
      .toEqual(['local-path (default)', 'skiff.dev/local-path', 'Delete', 'WaitForFirstConsumer', 'false', '5s']);
    expect(storageClassPrinter.columns.map((c) => c.name)).toEqual(['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  });
});

describe('PersistentVolumeClaim admission', () => {
  it('gives a claim without storageClassName the newest default class; "" means none', async () => {
    expect((await t.resources.create(persistentvolumeclaims, aClaim('before'))).spec.storageClassName).toBeUndefined();
    await t.resources.create(storageclasses, localPathStorageClass());
    t.clock.advance(1000);
    await t.resources.create(storageclasses, aClass('newer', { metadata: { name: 'newer', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } }));
    const claim = await t.resources.create(persistentvolumeclaims, aClaim('data'));
    expect(claim.spec.storageClassName).toBe('newer');
    expect(claim.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect((await t.resources.create(persistentvolumeclaims, aClaim('none', ''))).spec.storageClassName).toBe('');
    expect((await t.resources.create(persistentvolumeclaims, aClaim('chosen', 'local-path'))).spec.storageClassName).toBe('local-path');
  });

  it('lets a classless claim get a class later, but no claim change its class', async () => {
    await t.resources.create(persistentvolumeclaims, aClaim('late'));
    const updated = await t.resources.mutate<PersistentVolumeClaim>(persistentvolumeclaims, 'default', 'late', (c) => ({ ...c, spec: { ...c.spec, storageClassName: 'local-path' } }));
    expect(updated.spec.storageClassName).toBe('local-path');
    expect(await causesOf(t.resources.mutate<PersistentVolumeClaim>(persistentvolumeclaims, 'default', 'late', (c) => ({ ...c, spec: { ...c.spec, storageClassName: 'other' } }))))
      .toEqual(['spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims']);
  });
});

describe('PersistentVolume validation', () => {
  const pv = (spec: Partial<PersistentVolume['spec']>): PersistentVolume =>
    ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'v' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...spec } });

  it("refuses '..' in paths, a local volume without node affinity, and empty affinity", async () => {
    expect(await causesOf(t.resources.create(persistentvolumes, pv({ hostPath: { path: '/srv/../etc' } }))))
      .toEqual(['spec.hostPath.path: Invalid value: "/srv/../etc": must not contain \'..\'']);
    expect(await causesOf(t.resources.create(persistentvolumes, pv({ local: { path: '/mnt/disk' } }))))
      .toEqual(['spec.nodeAffinity: Required value: Local volume requires node affinity']);
    expect(await causesOf(t.resources.create(persistentvolumes, pv({ hostPath: { path: '/srv' }, nodeAffinity: { required: { nodeSelectorTerms: [] } } }))))
      .toEqual(['spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term']);
  });
});
