// Pure DaemonSet planning: which nodes should run its pod (node selector and affinity, taints it
// does not tolerate), which pods to create or delete per node, the RollingUpdate step (old pods
// replaced within maxUnavailable), and the status `kubectl rollout status ds` reads.
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { matchesNodeAffinity } from '../../resources/node-affinity.js';
import { toleratesTaint } from '../nodelifecycle/taint-plan.js';
import { isPodAvailable, isPodReady } from '../pod-readiness.js';
import { resolveIntOrPercent } from '../pod-template.js';
import type { DaemonSet } from '../workload-kinds.js';

export const REVISION_HASH = 'controller-revision-hash';

/** Tolerations every DaemonSet pod gets, so node trouble never evicts it (as Kubernetes adds them). */
export const DAEMON_TOLERATIONS: Array<Record<string, unknown>> = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export function shouldRunOn(ds: DaemonSet, node: Node): boolean {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: ds.spec.template.spec } as Pod;
  if (!matchesNodeAffinity(pod, node)) return false;
  const tolerations = [...(ds.spec.template.spec.tolerations ?? []), ...DAEMON_TOLERATIONS];
  return (node.spec.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || tolerations.some((x) => toleratesTaint(x, t)));
}

export interface DaemonPlan {
  create: string[];
  delete: Pod[];
  status: NonNullable<DaemonSet['status']>;
}

export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], owned: readonly Pod[], hash: string, nowMs: number): DaemonPlan {
  const minReady = ds.spec.minReadySeconds ?? 0;
  const byNode = new Map<string, Pod[]>();
  for (const pod of owned) {
    if (pod.metadata.deletionTimestamp || !pod.spec.nodeName) continue;
    const list = byNode.get(pod.spec.nodeName) ?? [];
    list.push(pod);
    byNode.set(pod.spec.nodeName, list);
  }
  const create: string[] = [];
  const remove: Pod[] = [];
  const oldOnNode: Pod[] = [];
  let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0, unavailable = 0;
  const deleting = Boolean(ds.metadata.deletionTimestamp);
  for (const node of nodes) {
    const name = node.metadata.name!;
    const pods = byNode.get(name) ?? [];
    byNode.delete(name);
    const running = pods.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    remove.push(...pods.filter((p) => !running.includes(p))); // failed pods are replaced
    if (!shouldRunOn(ds, node)) {
      if (running.length) misscheduled++;
      remove.push(...running);
      continue;
    }
    desired++;
    if (running.length === 0) {
      if (!deleting) create.push(name);
      unavailable++;
      continue;
    }
    current++;
    // keep one, preferring an updated then the oldest pod
    const sorted = [...running].sort((a, b) => Number(b.metadata.labels?.[REVISION_HASH] === hash) - Number(a.metadata.labels?.[REVISION_HASH] === hash)
      || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    const keep = sorted[0]!;
    remove.push(...sorted.slice(1));
    if (isPodReady(keep)) ready++;
    const isAvailable = isPodAvailable(keep, minReady, nowMs);
    if (isAvailable) available++;
    else unavailable++;
    if (keep.metadata.labels?.[REVISION_HASH] === hash) updated++;
    else if (!isAvailable) remove.push(keep); // already unavailable: replacing it costs nothing
    else oldOnNode.push(keep);
  }
  for (const pods of byNode.values()) remove.push(...pods); // pods on nodes that are gone
  if ((ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired, false, 1));
    const budget = maxUnavailable - unavailable;
    remove.push(...oldOnNode.slice(0, Math.max(0, budget)));
  }
  return {
    create,
    delete: remove,
    status: {
      currentNumberScheduled: current, numberMisscheduled: misscheduled, desiredNumberScheduled: desired, numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1, updatedNumberScheduled: updated, numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
      ...(ds.status?.collisionCount ? { collisionCount: ds.status.collisionCount } : {}),
    },
  };
}
