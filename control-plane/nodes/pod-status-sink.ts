// Writes what agents report about pods into the API: status updates, removal after a graceful
// delete, and events. Reports for pods the node does not own are dropped.
import type { Logger } from 'pino';
import { NotFoundError } from '../../api/errors.js';
import type { EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { Pod, PodStatus } from '../../api/types/pod.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

export class PodStatusSink {
  constructor(private readonly resources: ResourceStore, private readonly events: EventRecorder, private readonly logger: Logger) {}

  async podStatus(node: string, message: PodStatusMessage): Promise<void> {
    const { namespace, name, uid } = message;
    const owned = (pod: Pod) => pod.metadata.uid === uid && pod.spec.nodeName === node;
    try {
      if (message.removed) {
        const pod = await this.resources.get<Pod>(resourceTypes.pods, namespace, name);
        if (!owned(pod) || !pod.metadata.deletionTimestamp) return;
        await this.resources.delete(resourceTypes.pods, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
        return;
      }
      await this.resources.mutate<Pod>(resourceTypes.pods, namespace, name, (pod) => {
        if (!owned(pod)) {
          this.logger.warn({ node, namespace, name, uid }, 'dropped a pod status from a node that does not own the pod');
          return undefined;
        }
        const previous = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
        const status = message.status as PodStatus;
        const conditions = (status.conditions ?? []).map((c) => (c.type === 'PodScheduled' && previous ? previous : c));
        return { ...pod, status: { ...status, conditions } };
      }, { subresource: 'status' });
    } catch (error) {
      if (error instanceof NotFoundError) return; // deleted meanwhile
      throw error;
    }
  }

  event(node: string, message: EventMessage): void {
    this.events.record({
      involvedObject: { apiVersion: 'v1', ...message.involvedObject },
      type: message.type,
      reason: message.reason,
      message: message.message,
      component: 'kubelet',
      host: node,
    });
  }
}
