// How one pod appears in its node's desired state (desired-publisher.ts): the parts an agent acts
// on, a finished pod's small entry, and whether a pod waits for its address before it is sent.
import { MAX_PAYLOAD_BYTES, type DesiredPod } from '../../api/mqtt/messages.js';
import { POD_IP_ANNOTATION } from '../../api/pod-addresses.js';
import type { Pod } from '../../api/types/pod.js';

/** The parts of a pod an agent acts on (status and bookkeeping excluded). */
export function desiredView(pod: Pod): DesiredPod['pod'] {
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...metadata } = pod.metadata;
  return { apiVersion: 'v1', kind: 'Pod', metadata: metadata as DesiredPod['pod']['metadata'], spec: pod.spec as DesiredPod['pod']['spec'] };
}

/** A finished pod as the agent needs it: who it is, and its containers' names (for logs). */
export function finishedView(pod: Pod): DesiredPod {
  const { name, namespace, uid } = pod.metadata;
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => ({ name: c.name, image: c.image }));
  return {
    pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: name!, namespace: namespace!, uid: uid! }, spec: { containers } },
    images: {},
    finished: true,
  };
}

export class DesiredStateTooLargeError extends Error {
  override readonly name = 'DesiredStateTooLargeError';
  constructor(readonly node: string, readonly bytes: number, readonly pods: number) {
    super(`the desired state of node ${node} (${pods} pods) is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES} an MQTT message may carry`);
  }
}

/**
 * A pod bound to a node with a pod CIDR that has no address yet and has never run there (e.g. one
 * created with spec.nodeName, or a DaemonSet's): the agent gets it once the scheduler gave it one,
 * as a kubelet starts a pod only with its sandbox's IP.
 */
export function awaitsPodIP(pod: Pod): boolean {
  return !pod.metadata.annotations?.[POD_IP_ANNOTATION] && !pod.metadata.deletionTimestamp
    && !pod.status?.containerStatuses?.length && !pod.status?.initContainerStatuses?.length;
}
