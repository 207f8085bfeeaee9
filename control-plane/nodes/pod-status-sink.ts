// Writes what agents report about pods into the API: status updates, removal after a graceful
// delete, and events. As NodeRestriction does for kubelets, a node may report only on pods bound to
// it and on its own Node: anything else is logged, counted and dropped.
import type { Logger } from 'pino';
import { NotFoundError } from '../../api/errors.js';
import type { EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { Pod, PodStatus } from '../../api/types/pod.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

export type ReportOutcome = 'applied' | 'dropped';

export class PodStatusSink {
  #dropped = 0;

  constructor(private readonly resources: ResourceStore, private readonly events: EventRecorder, private readonly logger: Logger) {}

  /** Reports dropped because they were about pods or nodes the reporting node does not own. */
  get droppedReports(): number {
    return this.#dropped;
  }

  async podStatus(node: string, message: PodStatusMessage): Promise<ReportOutcome> {
    const { namespace, name, uid } = message;
    const owned = (pod: Pod) => pod.metadata.uid === uid && pod.spec.nodeName === node;
    let outcome: ReportOutcome = 'applied';
    try {
      if (message.removed) {
        const pod = await this.resources.get<Pod>(resourceTypes.pods, namespace, name);
        if (!owned(pod)) return this.#drop({ node, namespace, name, uid }, 'a pod removal');
        if (!pod.metadata.deletionTimestamp) return 'applied'; // not being deleted: a stale report
        await this.resources.delete(resourceTypes.pods, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
        return 'applied';
      }
      await this.resources.mutate<Pod>(resourceTypes.pods, namespace, name, (pod) => {
        if (!owned(pod)) {
          outcome = this.#drop({ node, namespace, name, uid }, 'a pod status');
          return undefined;
        }
        const previous = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
        const status = message.status as PodStatus;
        const conditions = (status.conditions ?? []).map((c) => (c.type === 'PodScheduled' && previous ? previous : c));
        // what the control plane owns stays, as the kubelet's status patch keeps it: the scheduler's
        // nominatedNodeName and a DisruptionTarget condition (preemption, eviction)
        const disruption = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
        if (disruption && !conditions.some((c) => c.type === 'DisruptionTarget')) conditions.push(disruption);
        const nominatedNodeName = (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName;
        return { ...pod, status: { ...status, conditions, ...(nominatedNodeName ? { nominatedNodeName } : {}) } };
      }, { subresource: 'status' });
      return outcome;
    } catch (error) {
      if (error instanceof NotFoundError) return 'dropped'; // deleted meanwhile (or never there)
      throw error;
    }
  }

  /** Records an agent's event if it is about one of the node's own pods (uid checked) or its own Node. */
  async event(node: string, message: EventMessage): Promise<ReportOutcome> {
    const ref = message.involvedObject;
    if (!(await this.#ownsSubject(node, ref))) return this.#drop({ node, involvedObject: ref, reason: message.reason }, 'an event');
    this.events.record({
      involvedObject: { apiVersion: 'v1', ...message.involvedObject },
      type: message.type,
      reason: message.reason,
      message: message.message,
      component: 'kubelet',
      host: node,
    });
    return 'applied';
  }

  async #ownsSubject(node: string, ref: EventMessage['involvedObject']): Promise<boolean> {
    if (ref.kind === 'Node') return ref.name === node && !ref.namespace;
    if (ref.kind !== 'Pod' || !ref.namespace) return false;
    try {
      const pod = await this.resources.get<Pod>(resourceTypes.pods, ref.namespace, ref.name);
      return pod.spec.nodeName === node && (ref.uid === undefined || ref.uid === pod.metadata.uid);
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  #drop(details: Record<string, unknown>, what: string): 'dropped' {
    this.#dropped += 1;
    this.logger.warn(details, `dropped ${what} from a node about something it does not own`);
    return 'dropped';
  }
}
