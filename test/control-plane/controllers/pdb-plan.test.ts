// PodDisruptionBudget status: expected and desired healthy pods for minAvailable (integer and
// percent) and maxUnavailable, Ready pods counted, recently evicted pods held back for a while.
import { describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../api/clock.js';
import { DISRUPTED_POD_TIMEOUT_MS, planPdbStatus } from '../../../control-plane/controllers/disruption/pdb-plan.js';
import type { PodDisruptionBudget } from '../../../control-plane/resources/kinds/policy.js';
import { aManagedPod, T0 } from './workload-builders.js';

const pdb = (spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status']): PodDisruptionBudget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 2 },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}),
});
const pods = [aManagedPod('a', { node: 'n', ready: true }), aManagedPod('b', { node: 'n', ready: true }), aManagedPod('c', { node: 'n', ready: false })];

describe('planPdbStatus', () => {
  it('counts an integer minAvailable against the matching pods', () => {
    expect(planPdbStatus(pdb({ minAvailable: 1 }), pods, 5, T0)).toMatchObject({
      observedGeneration: 2, expectedPods: 3, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }],
    });
    expect(planPdbStatus(pdb({ minAvailable: 2 }), pods, 3, T0)).toMatchObject({ disruptionsAllowed: 0, conditions: [{ status: 'False', reason: 'InsufficientPods' }] });
  });

  it('resolves percentages and maxUnavailable against the controllers\' scale', () => {
    expect(planPdbStatus(pdb({ minAvailable: '50%' }), pods, 3, T0)).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(planPdbStatus(pdb({ maxUnavailable: 1 }), pods, 4, T0)).toMatchObject({ expectedPods: 4, desiredHealthy: 3, disruptionsAllowed: 0 });
    expect(planPdbStatus(pdb({ maxUnavailable: '50%' }), pods, 2, T0)).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  it('holds an evicted pod out of currentHealthy until it goes or the entry times out', () => {
    const evicted = pdb({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 3, disruptedPods: { a: rfc3339(T0) } });
    expect(planPdbStatus(evicted, pods, 3, T0 + 1000)).toMatchObject({ currentHealthy: 1, disruptionsAllowed: 0, disruptedPods: { a: rfc3339(T0) } });
    const later = planPdbStatus(evicted, pods, 3, T0 + DISRUPTED_POD_TIMEOUT_MS + 1000);
    expect(later.disruptedPods).toBeUndefined();
    expect(later.currentHealthy).toBe(2);
  });
});
