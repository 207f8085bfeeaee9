// Pod admission, as the kubelet's resource fit: a pod runs here only if its memory request fits in
// what the node's active pods leave of its allocatable memory; otherwise it is rejected (phase
// Failed, reason OutOfmemory, and an event), never started. Requests are what the scheduler
// counts (an unset request defaults to the limit, as the API server defaults it); a container with
// neither (BestEffort) requests nothing and is bounded by the default memory limit and the
// runtime's node-wide pool instead.
import { rfc3339 } from '../../api/clock.js';
import type { Pod, PodStatus } from '../../api/types/pod.js';
import { podRequest } from '../../api/types/pod-requests.js';

/** The pod's effective memory request, the kubelet's way (app containers and sidecars together, or
 * the largest init container with the sidecars started before it, whichever is more). */
export const podMemoryRequest = (pod: Pod): number => podRequest(pod, 'memory');

export type Admission = { admitted: true } | { admitted: false; reason: 'OutOfmemory'; message: string };

/** Whether `pod` fits next to the active pods (their requests) in `allocatableBytes`. */
export function admitPod(pod: Pod, activePods: Iterable<Pod>, allocatableBytes: number | undefined): Admission {
  if (allocatableBytes === undefined) return { admitted: true };
  const requested = podMemoryRequest(pod);
  if (requested === 0) return { admitted: true };
  let used = 0;
  for (const other of activePods) used += podMemoryRequest(other);
  if (used + requested <= allocatableBytes) return { admitted: true };
  return {
    admitted: false,
    reason: 'OutOfmemory',
    message: `Node didn't have enough resource: memory, requested: ${requested}, used: ${used}, capacity: ${allocatableBytes}`,
  };
}

/** The status of a pod the node rejected: Failed, with the kubelet's reason and message (it never had containers). */
export function rejectedStatus(rejection: Exclude<Admission, { admitted: true }>, now: number): PodStatus {
  return { phase: 'Failed', reason: rejection.reason, message: `Pod was rejected: ${rejection.message}`, startTime: rfc3339(now) };
}
