// StatefulSet planning: ordered and parallel creation, scale-down from the highest ordinal, failed
// pods replaced, partitioned rolling updates and the status kubectl rollout status reads.
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { ordinalOf, planStatefulSet, REVISION_LABEL } from '../../../control-plane/controllers/statefulset/stateful-plan.js';
import type { StatefulSet } from '../../../control-plane/controllers/workload-kinds.js';
import { aManagedPod, aTemplate, T0 } from './workload-builders.js';

function aStatefulSet(over: { replicas?: number; parallel?: boolean; partition?: number; onDelete?: boolean } = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1 },
    spec: {
      replicas: over.replicas ?? 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: aTemplate(),
      podManagementPolicy: over.parallel ? 'Parallel' : 'OrderedReady',
      updateStrategy: over.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: over.partition ?? 0 } },
    },
  };
}

const revs = { current: 'web-old', update: 'web-new' };
const pod = (ordinal: number, over: { ready?: boolean; revision?: string; phase?: 'Failed' | 'Succeeded'; deleting?: boolean } = {}): Pod => {
  const p = aManagedPod(`web-${ordinal}`, { node: 'n1', ready: over.ready ?? true, ...(over.phase ? { phase: over.phase } : {}), ...(over.deleting ? { deleting: true } : {}) });
  p.metadata.labels = { app: 'web', [REVISION_LABEL]: over.revision ?? 'web-new' };
  return p;
};
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('planStatefulSet', () => {
  it('reads ordinals only from <set>-<n> names', () => {
    expect(ordinalOf('web', 'web-0')).toBe(0);
    expect(ordinalOf('web', 'web-12')).toBe(12);
    for (const bad of ['web-', 'web-01', 'web-a', 'webx-1', 'web-1-2', 'web--1', 'web-99999999999']) expect(ordinalOf('web', bad)).toBeUndefined();
  });

  it('creates one pod at a time in order, waiting for each to be Running and Ready', () => {
    const sts = aStatefulSet();
    expect(planStatefulSet(sts, [], revs, T0).create).toEqual([{ ordinal: 0, revision: 'web-new' }]);
    expect(planStatefulSet(sts, [pod(0, { ready: false })], revs, T0).create).toEqual([]);
    expect(planStatefulSet(sts, [pod(0)], revs, T0).create).toEqual([{ ordinal: 1, revision: 'web-new' }]);
  });

  it('creates every missing pod at once with Parallel', () => {
    const plan = planStatefulSet(aStatefulSet({ parallel: true }), [pod(1, { ready: false })], revs, T0);
    expect(plan.create.map((c) => c.ordinal)).toEqual([0, 2]);
  });

  it('replaces a failed pod before going on', () => {
    const failed = pod(0, { phase: 'Failed' });
    const plan = planStatefulSet(aStatefulSet(), [failed], revs, T0);
    expect(plan.delete).toEqual([failed]);
    expect(plan.create).toEqual([]);
  });

  it('scales down from the highest ordinal, one at a time when ordered, all at once when parallel', () => {
    const pods = [0, 1, 2, 3, 4].map((i) => pod(i));
    const ordered = planStatefulSet(aStatefulSet({ replicas: 2 }), pods, revs, T0);
    expect(names(ordered.delete)).toEqual(['web-4']);
    expect(names(ordered.condemned)).toEqual(['web-4']);
    expect(planStatefulSet(aStatefulSet({ replicas: 2 }), [...pods.slice(0, 4), pod(4, { deleting: true })], revs, T0).delete).toEqual([]);
    expect(names(planStatefulSet(aStatefulSet({ replicas: 2, parallel: true }), pods, revs, T0).delete)).toEqual(['web-4', 'web-3', 'web-2']);
    // an unhealthy pod blocks an ordered scale-down
    expect(planStatefulSet(aStatefulSet({ replicas: 2 }), [pod(0), pod(1, { ready: false }), pod(2)], revs, T0).delete).toEqual([]);
  });

  it('with rollingUpdate.maxUnavailable replaces up to that many outdated pods at once, counting the unavailable ones', () => {
    const withMax = (maxUnavailable: number | string, partition = 0) => {
      const sts = aStatefulSet({ replicas: 5, parallel: true, partition });
      sts.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition, maxUnavailable } };
      return sts;
    };
    const old = [0, 1, 2, 3, 4].map((i) => pod(i, { revision: 'web-old' }));
    expect(names(planStatefulSet(withMax(2), old, revs, T0).delete)).toEqual(['web-4', 'web-3']);
    // 40% of 5 rounded up: 2; one pod already unavailable leaves room for one more
    expect(names(planStatefulSet(withMax('40%'), [...old.slice(0, 4), pod(4, { ready: false })], revs, T0).delete)).toEqual(['web-3']);
    expect(planStatefulSet(withMax(1), [...old.slice(0, 4), pod(4, { ready: false })], revs, T0).delete).toEqual([]);
    // never below the partition; 1% is still one pod
    expect(names(planStatefulSet(withMax(10, 3), old, revs, T0).delete)).toEqual(['web-4', 'web-3']);
    expect(names(planStatefulSet(withMax('1%'), old, revs, T0).delete)).toEqual(['web-4']);
  });

  it('updates from the highest ordinal down to the partition, one pod at a time', () => {
    const old = [0, 1, 2].map((i) => pod(i, { revision: 'web-old' }));
    expect(names(planStatefulSet(aStatefulSet(), old, revs, T0).delete)).toEqual(['web-2']);
    const partitioned = aStatefulSet({ partition: 2 });
    expect(names(planStatefulSet(partitioned, old, revs, T0).delete)).toEqual(['web-2']);
    expect(planStatefulSet(partitioned, [old[0]!, old[1]!, pod(2)], revs, T0).delete).toEqual([]);
    // a pod below the partition that is recreated keeps the current revision
    expect(planStatefulSet(partitioned, [old[1]!, pod(2)], revs, T0).create).toEqual([{ ordinal: 0, revision: 'web-old' }]);
    // the updated pod must be Ready before the next one goes
    expect(planStatefulSet(aStatefulSet(), [old[0]!, old[1]!, pod(2, { ready: false })], revs, T0).delete).toEqual([]);
    expect(planStatefulSet(aStatefulSet({ onDelete: true }), old, revs, T0).delete).toEqual([]);
  });

  it('reports the counts and moves the current revision once every pod is updated and ready', () => {
    const mixed = planStatefulSet(aStatefulSet(), [pod(0, { revision: 'web-old' }), pod(1), pod(2, { ready: false })], revs, T0).status;
    expect(mixed).toMatchObject({ replicas: 3, readyReplicas: 2, currentReplicas: 1, updatedReplicas: 2, currentRevision: 'web-old', updateRevision: 'web-new', observedGeneration: 1 });
    const done = planStatefulSet(aStatefulSet(), [pod(0), pod(1), pod(2)], revs, T0).status;
    expect(done).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'web-new' });
  });
});
