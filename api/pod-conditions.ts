// A pod's status.conditions, as kube's podutil.UpdatePodCondition keeps them: one entry per type.
import { rfc3339, type Clock } from './clock.js';
import type { Pod } from './types/pod.js';

export interface PodConditionChange {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** The pod with `condition` set (replacing one of its type), stamped now; a pod without a phase is Pending. */
export function withPodCondition(pod: Pod, condition: PodConditionChange, clock: Clock): Pod {
  const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== condition.type);
  conditions.push({ ...condition, lastProbeTime: null, lastTransitionTime: rfc3339(clock.now()) });
  return { ...pod, status: { phase: 'Pending', ...pod.status, conditions } };
}
