import { describe, expect, it } from 'vitest';
import { findNewReplicaSet, newReplicaSetFor, replicaSetsToPrune } from '../../../control-plane/controllers/deployment/deployment-revisions.js';
import { planDeploymentStatus } from '../../../control-plane/controllers/deployment/deployment-status.js';
import { planRecreate, planRollingUpdate } from '../../../control-plane/controllers/deployment/rollout-plan.js';
import { aDeployment, aReplicaSet, aTemplate, T0 } from './workload-builders.js';

describe('planRollingUpdate', () => {
  it('surges the new ReplicaSet by maxSurge first', () => {
    const d = aDeployment({ replicas: 3, image: 'v2', maxSurge: 1, maxUnavailable: 0 });
    const plan = planRollingUpdate(d, aReplicaSet('new', { replicas: 0, image: 'v2' }), [aReplicaSet('old', { replicas: 3 })]);
    expect([...plan]).toEqual([['new', 1]]);
  });

  it('scales old ReplicaSets down only as far as available new pods allow', () => {
    const d = aDeployment({ replicas: 3, image: 'v2', maxSurge: 1, maxUnavailable: 0 });
    const notYet = planRollingUpdate(d, aReplicaSet('new', { replicas: 1, available: 0, image: 'v2' }), [aReplicaSet('old', { replicas: 3 })]);
    expect(notYet.size).toBe(0);
    const ready = planRollingUpdate(d, aReplicaSet('new', { replicas: 1, available: 1, image: 'v2' }), [aReplicaSet('old', { replicas: 3 })]);
    expect([...ready]).toEqual([['old', 2]]);
  });

  it('removes unhealthy old replicas first, then available ones only within maxUnavailable', () => {
    const d = aDeployment({ replicas: 4, image: 'v2', maxSurge: 2, maxUnavailable: 1 });
    const newRS = aReplicaSet('new', { replicas: 2, available: 0, image: 'v2' });
    // 6 pods, 3 must stay available, 2 new ones are not yet: 1 may go, and it is an unhealthy old one
    const plan = planRollingUpdate(d, newRS, [aReplicaSet('old', { replicas: 4, available: 2 })]);
    expect([...plan]).toEqual([['old', 3]]);
    const healthy = planRollingUpdate(d, aReplicaSet('new', { replicas: 2, available: 2, image: 'v2' }), [aReplicaSet('old', { replicas: 4, available: 4 })]);
    expect([...healthy]).toEqual([['old', 1]]);
  });

  it('scales the new ReplicaSet back to spec.replicas', () => {
    const plan = planRollingUpdate(aDeployment({ replicas: 2 }), aReplicaSet('new', { replicas: 5 }), []);
    expect([...plan]).toEqual([['new', 2]]);
  });
});

describe('planRecreate', () => {
  it('scales old to zero, waits for their pods, then scales the new one up', () => {
    const d = aDeployment({ replicas: 2, recreate: true, image: 'v2' });
    expect([...planRecreate(d, undefined, [aReplicaSet('old', { replicas: 2 })], true)]).toEqual([['old', 0]]);
    expect(planRecreate(d, undefined, [aReplicaSet('old', { replicas: 0 })], true).size).toBe(0);
    expect(planRecreate(d, undefined, [aReplicaSet('old', { replicas: 0 })], false).needsNew).toBe(true);
    expect([...planRecreate(d, aReplicaSet('new', { replicas: 0, image: 'v2' }), [], false)]).toEqual([['new', 2]]);
  });
});

describe('deployment revisions', () => {
  it('finds the ReplicaSet whose template matches, ignoring the hash label, nulls and empty values', () => {
    const d = aDeployment();
    const rs = newReplicaSetFor(d, 1);
    const undone = { ...d, spec: { ...d.spec, template: { metadata: { labels: { app: 'web' }, creationTimestamp: null }, spec: { containers: [{ name: 'main', image: 'examples/sleep:latest', resources: {} }] } } } };
    expect(findNewReplicaSet(undone, [aReplicaSet('other', { image: 'v9' }), rs])).toBe(rs);
    expect(rs.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.spec.selector.matchLabels?.['pod-template-hash']).toBe(rs.spec.template.metadata?.labels?.['pod-template-hash']);
  });

  it('copies change-cause to the new ReplicaSet with the next revision', () => {
    const d = aDeployment();
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'kubectl set image', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const rs = newReplicaSetFor(d, 4);
    expect(rs.metadata.annotations).toMatchObject({ 'kubernetes.io/change-cause': 'kubectl set image', 'deployment.kubernetes.io/revision': '4' });
    expect(rs.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
  });

  it('prunes scaled-down ReplicaSets beyond revisionHistoryLimit, oldest revision first', () => {
    const d = { ...aDeployment(), spec: { ...aDeployment().spec, revisionHistoryLimit: 1 } };
    const old = [1, 2, 3].map((r) => ({ ...aReplicaSet(`r${r}`, { replicas: 0, revision: r }), status: { replicas: 0 } }));
    expect(replicaSetsToPrune(d, old).map((rs) => rs.metadata.name)).toEqual(['r1', 'r2']);
    expect(aTemplate()).toBeTruthy();
  });
});

describe('planDeploymentStatus', () => {
  it('reports a finished rollout as kubectl rollout status expects', () => {
    const d = aDeployment({ replicas: 2, generation: 3 });
    const rs = aReplicaSet('new', { replicas: 2 });
    const { status } = planDeploymentStatus(d, rs, [rs], T0);
    expect(status).toMatchObject({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable']]);
  });

  it('turns Progressing False with ProgressDeadlineExceeded once no progress is made for the deadline', () => {
    const d = aDeployment({ replicas: 2, progressDeadlineSeconds: 30 });
    const rs = aReplicaSet('new', { replicas: 2, available: 0 });
    const first = planDeploymentStatus(d, rs, [rs], T0);
    expect(first.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('ReplicaSetUpdated');
    expect(first.requeueAfterMs).toBe(30_000);
    const later = planDeploymentStatus({ ...d, status: first.status }, rs, [rs], T0 + 10_000);
    expect(later.requeueAfterMs).toBe(20_000);
    const expired = planDeploymentStatus({ ...d, status: first.status }, rs, [rs], T0 + 31_000);
    expect(expired.status.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });
});
