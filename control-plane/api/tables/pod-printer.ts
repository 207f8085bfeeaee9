// The pods table: NAME READY STATUS RESTARTS AGE (+ IP, NODE wide), with kubectl's STATUS reasoning.
import type { KubeObject } from '../../../api/types/meta.js';
import type { ContainerStatus, Pod } from '../../../api/types/pod.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

export const podPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    column('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', { priority: 1 }),
    column('Node', 'NodeName is a request to schedule this pod onto a specific node.', { priority: 1 }),
    column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', { priority: 1 }),
    column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
  ],
  cells(obj: KubeObject, nowMs: number): unknown[] {
    const pod = obj as Pod;
    const statuses = pod.status?.containerStatuses ?? [];
    const ready = statuses.filter((s) => s.ready && s.state?.running).length;
    const total = pod.spec?.containers?.length ?? 0;
    return [
      pod.metadata.name, `${ready}/${total}`, podStatusReason(pod), restartsCell(statuses, nowMs), ageOf(pod.metadata.creationTimestamp, nowMs),
      pod.status?.podIP || '<none>', pod.spec?.nodeName || '<none>', (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName || '<none>', '<none>',
    ];
  },
};

function restartsCell(statuses: ContainerStatus[], nowMs: number): string {
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const lastFinish = statuses.map((s) => s.lastState?.terminated?.finishedAt).filter((t): t is string => !!t).sort().pop();
  return restarts > 0 && lastFinish ? `${restarts} (${ageOf(lastFinish, nowMs)} ago)` : String(restarts);
}

/** The STATUS column as kubectl computes it: phase, overridden by init and container state reasons. */
export function podStatusReason(pod: Pod): string {
  let reason: string = pod.status?.reason || pod.status?.phase || 'Pending';
  const initStatuses = pod.status?.initContainerStatuses ?? [];
  const initCount = pod.spec?.initContainers?.length ?? 0;
  let initializing = false;
  for (const [i, s] of initStatuses.entries()) {
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    initializing = true;
    if (t) reason = `Init:${t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`)}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${initCount}`;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    for (const s of [...(pod.status?.containerStatuses ?? [])].reverse()) {
      const { waiting, terminated, running } = s.state ?? {};
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (s.ready && running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = isReady ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}
