// Pure PodDisruptionBudget status, as Kubernetes' disruption controller computes it: with an integer
// minAvailable the expected pods are the pods that match; with maxUnavailable or a percentage they
// are the replicas their controllers ask for. currentHealthy counts Ready pods not being deleted
// (nor recently evicted: disruptedPods), and disruptionsAllowed is what is left above desiredHealthy.
import { rfc3339 } from '../../../api/clock.js';
import type { Condition } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import type { PodDisruptionBudget } from '../../resources/kinds/policy.js';
import { isPodReady } from '../pod-readiness.js';

/** An eviction's entry in disruptedPods is dropped after this long if the pod was not deleted (Kubernetes' DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

export const isHealthy = (pod: Pod): boolean => !pod.metadata.deletionTimestamp && isPodReady(pod);

function resolve(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  const exact = ((m ? Number(m[1]) : Number(value) || 0) * total) / 100;
  return m ? (roundUp ? Math.ceil(exact) : Math.floor(exact)) : Number(value) || 0;
}

/** `expectedScale`: the replicas the pods' controllers ask for (used for maxUnavailable and percentages). */
export function planPdbStatus(pdb: PodDisruptionBudget, pods: readonly Pod[], expectedScale: number, nowMs: number): NonNullable<PodDisruptionBudget['status']> {
  const { minAvailable, maxUnavailable } = pdb.spec;
  let expectedPods: number;
  let desiredHealthy: number;
  if (maxUnavailable !== undefined) {
    expectedPods = expectedScale;
    desiredHealthy = Math.max(0, expectedPods - resolve(maxUnavailable, expectedPods, true));
  } else if (typeof minAvailable === 'string') {
    expectedPods = expectedScale;
    desiredHealthy = resolve(minAvailable, expectedPods, true);
  } else {
    expectedPods = pods.length;
    desiredHealthy = minAvailable ?? 1;
  }
  const disruptedPods: Record<string, string> = {};
  for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    const pod = pods.find((p) => p.metadata.name === name);
    if (pod && !pod.metadata.deletionTimestamp && Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS > nowMs) disruptedPods[name] = at;
  }
  const currentHealthy = pods.filter((p) => isHealthy(p) && !(p.metadata.name! in disruptedPods)).length;
  const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
  const old = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const allowed = disruptionsAllowed > 0 ? 'True' : 'False';
  const condition: Condition = {
    type: 'DisruptionAllowed', status: allowed, reason: disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '',
    lastTransitionTime: old?.status === allowed && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(nowMs),
  };
  return {
    observedGeneration: pdb.metadata.generation ?? 1,
    ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
    disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods, conditions: [condition],
  };
}
