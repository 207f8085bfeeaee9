// When a pod counts as active, ready and available (Ready for minReadySeconds), as controllers judge it.
import type { Pod } from '../../api/types/pod.js';
import { isTerminalPhase } from '../../api/types/pod.js';

/** Not finished and not being deleted: it counts towards a controller's replicas. */
export const isPodActive = (pod: Pod): boolean =>
  !pod.metadata.deletionTimestamp && !isTerminalPhase(pod.status?.phase);

export const isPodReady = (pod: Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** When the pod last became Ready (ms), if it is Ready. */
export function podReadySinceMs(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  if (!c) return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Ready for at least minReadySeconds at `nowMs`. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const since = podReadySinceMs(pod);
  if (since === undefined) return false;
  return minReadySeconds <= 0 || since + minReadySeconds * 1000 <= nowMs;
}

/** ms until a Ready pod becomes available, if it is Ready but not yet available. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  const since = podReadySinceMs(pod);
  if (since === undefined || minReadySeconds <= 0) return undefined;
  const at = since + minReadySeconds * 1000;
  return at > nowMs ? at - nowMs : undefined;
}
