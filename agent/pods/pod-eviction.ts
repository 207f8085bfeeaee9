// A pod the node evicted (an emptyDir over its sizeLimit): as the kubelet reports it, phase Failed,
// reason Evicted, the message saying why, and a DisruptionTarget condition.
import type { PodStatus } from '../../api/types/pod.js';

export interface Eviction {
  message: string;
  /** When it was decided (RFC 3339). */
  at: string;
}

export function applyEviction(status: PodStatus, eviction: Eviction | undefined): PodStatus {
  if (!eviction) return status;
  const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: eviction.message, lastProbeTime: null, lastTransitionTime: eviction.at });
  return { ...status, phase: 'Failed', reason: 'Evicted', message: eviction.message, conditions };
}
