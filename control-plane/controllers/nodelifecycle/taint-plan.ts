// Pure node-lifecycle decisions: the NoExecute/NoSchedule taints a node's Ready condition calls for
// (unreachable when Unknown, not-ready when False), and which of its pods to evict now or later,
// from their tolerations and tolerationSeconds (counted from the taint's timeAdded). The NoSchedule
// taint follows the condition at once; the NoExecute one only once the zone's rate limit let the
// node through (zone-tainter.ts), and it then follows the condition at once (unreachable <-> not-ready).
import { rfc3339 } from '../../../api/clock.js';
import type { Node, Taint } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';

export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NOT_READY = 'node.kubernetes.io/not-ready';
const MANAGED = new Set([UNREACHABLE, NOT_READY]);

/** The managed taint key the node's Ready condition calls for (none when Ready, or when it has no Ready condition). */
export function conditionTaintKey(node: Node): string | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return ready === 'Unknown' ? UNREACHABLE : ready === 'False' ? NOT_READY : undefined;
}

/** Whether the node carries a NoExecute taint of the node lifecycle's own (unreachable or not-ready). */
export const hasManagedNoExecute = (node: Node): boolean => (node.spec.taints ?? []).some((t) => t.effect === 'NoExecute' && MANAGED.has(t.key));

/**
 * The node's taints as its Ready condition wants them, or undefined when they are already right.
 * `noExecute`: whether the node may carry the NoExecute taint now (let through by its zone's rate limit).
 */
export function planNodeTaints(node: Node, nowMs: number, noExecute: boolean): Taint[] | undefined {
  const key = conditionTaintKey(node);
  const current = node.spec.taints ?? [];
  const keep = current.filter((t) => !MANAGED.has(t.key));
  const want: Taint[] = [...keep];
  if (key) {
    for (const effect of noExecute ? ['NoSchedule', 'NoExecute'] as const : ['NoSchedule'] as const) {
      const existing = current.find((t) => t.key === key && t.effect === effect);
      want.push(existing ?? { key, effect, timeAdded: rfc3339(nowMs) });
    }
  }
  const same = want.length === current.length && want.every((t) => current.includes(t));
  return same ? undefined : want;
}

type Toleration = Record<string, unknown>;

export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  const effect = toleration['effect'] as string | undefined;
  if (effect && effect !== taint.effect) return false;
  const key = toleration['key'] as string | undefined;
  if (toleration['operator'] === 'Exists') return !key || key === taint.key;
  return key === taint.key && ((toleration['value'] as string | undefined) ?? '') === (taint.value ?? '');
}

export interface EvictionPlan {
  evict: Pod[];
  /** The next time (ms) a pod's toleration runs out, if any will. */
  nextAtMs?: number;
}

export function planEvictions(node: Node, pods: readonly Pod[], nowMs: number): EvictionPlan {
  const taints = (node.spec.taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (taints.length === 0) return { evict: [] };
  const evict: Pod[] = [];
  let nextAtMs: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    let deadline = Infinity;
    for (const taint of taints) {
      const matching = (pod.spec.tolerations ?? []).filter((t) => toleratesTaint(t, taint));
      if (matching.length === 0) {
        deadline = -Infinity;
        break;
      }
      // the shortest tolerationSeconds of the matching tolerations; none means forever
      const seconds = matching.map((t) => t['tolerationSeconds']).filter((s): s is number => typeof s === 'number');
      if (seconds.length === 0) continue;
      const added = Date.parse(taint.timeAdded ?? '') || nowMs;
      deadline = Math.min(deadline, added + Math.max(0, Math.min(...seconds)) * 1000);
    }
    if (deadline <= nowMs) evict.push(pod);
    else if (deadline !== Infinity) nextAtMs = Math.min(nextAtMs ?? deadline, deadline);
  }
  return { evict, ...(nextAtMs !== undefined ? { nextAtMs } : {}) };
}
