import { describe, expect, it } from 'vitest';
import { deletionOrder, planReplicaSet, planReplicaSetStatus, podsToDelete } from '../../../control-plane/controllers/replicaset/replica-plan.js';
import { seededRandom } from '../../support/seeded-random.js';
import { aManagedPod, aReplicaSet, T0 } from './workload-builders.js';

describe('planReplicaSet', () => {
  it('creates the missing replicas, not counting terminating or finished pods', () => {
    const rs = aReplicaSet('web-1', { replicas: 3 });
    const pods = [aManagedPod('a', { owner: 'web-1', node: 'n1' }), aManagedPod('b', { owner: 'web-1', deleting: true }), aManagedPod('c', { owner: 'web-1', phase: 'Failed' })];
    expect(planReplicaSet(rs, pods)).toMatchObject({ create: 2, delete: [] });
  });

  it('adopts matching orphans and releases owned pods whose labels no longer match', () => {
    const rs = aReplicaSet('web-1', { replicas: 2 });
    const orphan = aManagedPod('orphan', { node: 'n1' });
    const strayed = aManagedPod('strayed', { owner: 'web-1', labels: { app: 'other' } });
    const plan = planReplicaSet(rs, [orphan, strayed, aManagedPod('other-owner', { owner: 'web-2' })]);
    expect(plan.adopt.map((p) => p.metadata.name)).toEqual(['orphan']);
    expect(plan.release.map((p) => p.metadata.name)).toEqual(['strayed']);
    expect(plan.create).toBe(1);
  });

  it('scales down unscheduled, then not-ready, then the newest pods first', () => {
    const rs = aReplicaSet('web-1', { replicas: 1 });
    const pods = [
      aManagedPod('old-ready', { owner: 'web-1', node: 'n1', ready: true, createdMs: T0 }),
      aManagedPod('new-ready', { owner: 'web-1', node: 'n1', ready: true, createdMs: T0 + 5000, readySinceMs: T0 + 6000 }),
      aManagedPod('not-ready', { owner: 'web-1', node: 'n1' }),
      aManagedPod('unscheduled', { owner: 'web-1' }),
    ];
    expect(planReplicaSet(rs, pods).delete.map((p) => p.metadata.name)).toEqual(['unscheduled', 'not-ready', 'new-ready']);
    expect(podsToDelete(pods, 1).map((p) => p.metadata.name)).toEqual(['unscheduled']);
  });

  it('counts a pod available only after minReadySeconds and asks to look again then', () => {
    const rs = { ...aReplicaSet('web-1', { replicas: 2 }), spec: { ...aReplicaSet('web-1').spec, replicas: 2, minReadySeconds: 10 } };
    const pods = [aManagedPod('a', { owner: 'web-1', node: 'n', ready: true, readySinceMs: T0 }), aManagedPod('b', { owner: 'web-1', node: 'n', ready: true, readySinceMs: T0 + 8000 })];
    const plan = planReplicaSetStatus(rs, pods, T0 + 12_000);
    expect(plan.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 1 });
    expect(plan.requeueAfterMs).toBe(6000);
  });
});

describe('podsToDelete', () => {
  it('takes the same pods, in the same order, as sorting by deletionOrder (seeded random pods)', () => {
    const next = seededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    for (let round = 0; round < 50; round++) {
      const pods = Array.from({ length: 1 + Math.floor(next() * 80) }, (_, i) => aManagedPod(`p${i}-${Math.floor(next() * 5)}`, {
        owner: 'web-1', node: next() < 0.8 ? 'n1' : undefined, ready: next() < 0.6, readySinceMs: T0 + 1000 * Math.floor(next() * 4),
        createdMs: T0 + 1000 * Math.floor(next() * 4), restarts: pick([0, 0, 1, 3]), phase: pick(['Pending', 'Running', 'Unknown'] as const),
      } as Parameters<typeof aManagedPod>[1]));
      const count = Math.floor(next() * (pods.length + 2));
      expect(podsToDelete(pods, count).map((p) => p.metadata.name)).toEqual([...pods].sort(deletionOrder).slice(0, count).map((p) => p.metadata.name));
    }
  });
});
