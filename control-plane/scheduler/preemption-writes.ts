// Preemption's writes (DefaultPreemption's PostFilter): for a pod no node fits, the plan of
// preemption.ts is carried out: each victim marked DisruptionTarget, a Preempted event, the victim
// deleted, and the node nominated on the preemptor's status, as kube-scheduler does.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import { NotFoundError } from '../../api/errors.js';
import { withPodCondition } from '../../api/pod-conditions.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { PodDisruptionBudget } from '../resources/kinds/policy.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { planPreemption, preemptionBlocked, type PreemptionPlan } from './preemption.js';

export interface PreemptionDeps { resources: ResourceStore; events: EventRecorder; clock: Clock; logger: Logger }

const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** Preempts lower-priority pods for `pod` when that makes room; returns why not otherwise. */
export async function tryPreemption(pod: Pod, usable: readonly Node[], pods: readonly Pod[], nodeCount: number, deps: PreemptionDeps): Promise<string | undefined> {
  const blocked = preemptionBlocked(pod, pods);
  if (blocked) return blocked;
  const budgets = (await deps.resources.list<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets)).items;
  const plan = planPreemption(pod, usable, pods, budgets);
  if (!plan) return `0/${nodeCount} nodes are available: ${usable.length} No preemption victims found for incoming pod.`;
  await preempt(pod, plan, deps);
  return undefined;
}

/** Marks and deletes the victims (DisruptionTarget, a Preempted event) and nominates the node for `pod`. */
async function preempt(pod: Pod, plan: PreemptionPlan, deps: PreemptionDeps): Promise<void> {
  const { resources, events, clock, logger } = deps;
  const ignoreGone = (error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  };
  for (const victim of plan.victims) {
    const ns = victim.metadata.namespace;
    const name = victim.metadata.name!;
    await resources.mutate<Pod>(resourceTypes.pods, ns, name, (p) => (p.metadata.deletionTimestamp ? undefined : withPodCondition(p, {
      type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod',
    }, clock)), { subresource: 'status' }).catch(ignoreGone);
    events.record({
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: ns!, name, uid: victim.metadata.uid! },
      type: 'Normal', reason: 'Preempted', component: 'default-scheduler', message: `Preempted by pod ${pod.metadata.uid} on node ${plan.node}`,
    });
    await resources.delete(resourceTypes.pods, ns, name, { preconditions: { uid: victim.metadata.uid! } }).catch(ignoreGone);
  }
  logger.info({ pod: podKey(pod), node: plan.node, victims: plan.victims.map(podKey) }, 'preempted lower-priority pods');
  await resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, (p) =>
    p.spec.nodeName ? undefined : { ...p, status: { ...p.status, nominatedNodeName: plan.node } as Pod['status'] }, { subresource: 'status' }).catch(ignoreGone);
}
