import { describe, expect, it } from 'vitest';
import { bestVolumeFor, planClaim, type ClaimView } from '../../../control-plane/controllers/volume/claim-plan.js';
import { planVolume } from '../../../control-plane/controllers/volume/volume-plan.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../control-plane/resources/kinds/config.js';
import { localPathStorageClass } from '../../../control-plane/resources/storage-classes.js';
import { aNode } from '../../support/builders.js';

const claim = (over: Partial<PersistentVolumeClaim['spec']> = {}, meta: Partial<PersistentVolumeClaim['metadata']> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', uid: 'c1', finalizers: ['kubernetes.io/pvc-protection'], ...meta },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path', ...over },
  status: { phase: 'Pending' },
});
const volume = (name: string, spec: Partial<PersistentVolume['spec']> = {}, phase: 'Available' | 'Bound' | 'Released' = 'Available'): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', hostPath: { path: `/srv/${name}` }, ...spec },
  status: { phase },
});
const view = (c: PersistentVolumeClaim, over: Partial<ClaimView> = {}): ClaimView =>
  ({ claim: c, volumes: [], classes: [localPathStorageClass()], nodes: new Map([['n1', aNode('n1')]]), inUse: false, ...over });

describe('planClaim', () => {
  it('waits for a consumer, then provisions on the selected node', () => {
    expect(planClaim(view(claim()))).toEqual({ action: 'wait', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } });
    const selected = claim({}, { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } });
    expect(planClaim(view(selected))).toMatchObject({ action: 'provision', node: { metadata: { name: 'n1' } } });
  });

  it('prefers a static volume on the selected node over provisioning', () => {
    const selected = claim({}, { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } });
    const elsewhere = volume('elsewhere', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } } });
    const here = volume('here', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } });
    expect(planClaim(view(selected, { volumes: [elsewhere] }))).toMatchObject({ action: 'provision' });
    expect(planClaim(view(selected, { volumes: [elsewhere, here] }))).toMatchObject({ action: 'bind', volume: { metadata: { name: 'here' } } });
  });

  it('binds a volume pre-bound to the claim, and finishes a binding under way', () => {
    const pre = volume('pre', { claimRef: { namespace: 'default', name: 'data' } });
    expect(planClaim(view(claim(), { volumes: [pre] }))).toMatchObject({ action: 'bind', volume: { metadata: { name: 'pre' } } });
    const other = volume('other', { claimRef: { namespace: 'default', name: 'data', uid: 'someone-else' } });
    expect(planClaim(view(claim({ volumeName: 'other' }), { volumes: [other] }))).toMatchObject({ action: 'wait', event: { reason: 'FailedBinding' } });
  });

  it('keeps a protected claim while in use, and loses a bound claim whose volume is gone', () => {
    const deleting = claim({}, { deletionTimestamp: '2026-01-01T00:00:00Z' });
    expect(planClaim(view(deleting, { inUse: true }))).toEqual({ action: 'none' });
    expect(planClaim(view(deleting))).toEqual({ action: 'releaseFinalizer' });
    const bound = { ...claim({ volumeName: 'gone' }), status: { phase: 'Bound' as const } };
    expect(planClaim(view(bound))).toMatchObject({ action: 'lost', event: { reason: 'ClaimLost' } });
  });

  it('gives a classless claim the default class', () => {
    expect(planClaim(view(claim({ storageClassName: undefined })))).toEqual({ action: 'setDefaultClass', className: 'local-path' });
    expect(planClaim(view(claim({ storageClassName: '' })))).toMatchObject({ action: 'wait', event: { reason: 'FailedBinding' } });
  });
});

describe('bestVolumeFor', () => {
  it('matches class, access modes, size and selector, smallest first', () => {
    const c = claim({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '2Gi' } }, selector: { matchLabels: { tier: 'fast' } } });
    const labelled = (v: PersistentVolume) => ({ ...v, metadata: { ...v.metadata, labels: { tier: 'fast' } } });
    const volumes = [
      labelled(volume('rwo', { capacity: { storage: '5Gi' } })),
      labelled(volume('small', { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'] })),
      labelled(volume('big', { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteMany'] })),
      labelled(volume('fits', { capacity: { storage: '3Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'] })),
      volume('unlabelled', { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteMany'] }),
      labelled(volume('other-class', { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteMany'], storageClassName: 'fast' })),
    ];
    expect(bestVolumeFor(c, volumes, undefined)?.metadata.name).toBe('fits');
    expect(bestVolumeFor(c, volumes.filter((v) => v.metadata.name !== 'fits'), undefined)?.metadata.name).toBe('big');
  });
});

describe('planVolume', () => {
  it('walks Available -> Bound -> Released or deleted', () => {
    const c = claim();
    expect(planVolume(volume('v', {}, 'Bound'), undefined)).toEqual({ action: 'phase', phase: 'Available' });
    const claimed = volume('v', { claimRef: { namespace: 'default', name: 'data', uid: 'c1' } }, 'Available');
    expect(planVolume(claimed, c)).toEqual({ action: 'phase', phase: 'Bound' });
    expect(planVolume({ ...claimed, status: { phase: 'Bound' } }, undefined)).toEqual({ action: 'phase', phase: 'Released' });
    expect(planVolume({ ...claimed, spec: { ...claimed.spec, persistentVolumeReclaimPolicy: 'Delete' } }, undefined)).toEqual({ action: 'delete' });
    // a claim of the same name but another uid is not the one it was bound to
    expect(planVolume({ ...claimed, spec: { ...claimed.spec, persistentVolumeReclaimPolicy: 'Delete' } }, claim({}, { uid: 'c2' }))).toEqual({ action: 'delete' });
  });
});
