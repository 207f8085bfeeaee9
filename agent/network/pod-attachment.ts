// One pod's place on the node's network: its PodNetwork (the namespace its containers share), its
// pod IP made reachable to the node's other pods while it runs, its containers' outgoing requests
// routed by the NodeNetwork, and the Service environment variables its containers get.
import type { DesiredPod } from '../../api/mqtt/messages.js';
import { PodNetwork, type PodNetworkOptions } from '../pods/pod-network.js';
import type { NodeNetwork } from './node-network.js';
import { serviceEnv } from './service-env.js';

interface PodIdentity {
  namespace: string;
  name: string;
  podIP: string | undefined;
  /** spec.enableServiceLinks (default true). */
  enableServiceLinks: boolean;
}

function identity(desired: DesiredPod): PodIdentity {
  const { metadata, spec } = desired.pod;
  return { namespace: metadata.namespace || 'default', name: metadata.name, podIP: desired.podIP, enableServiceLinks: spec['enableServiceLinks'] !== false };
}

export class PodAttachment {
  readonly network: PodNetwork;
  #attachedIP: string | undefined;
  #detach: (() => void) | undefined;

  private readonly pod = (): PodIdentity => identity(this.desired());

  constructor(
    private readonly node: NodeNetwork | undefined,
    private readonly desired: () => DesiredPod,
    options: Omit<PodNetworkOptions, 'podIP' | 'route'>,
  ) {
    this.network = new PodNetwork({
      ...options,
      podIP: () => this.pod().podIP,
      ...(node ? {
        route: (request, timeoutMs) => node.httpRequest({ namespace: this.pod().namespace, network: this.network }, request, timeoutMs),
        resolve: (name) => node.lookup({ namespace: this.pod().namespace, network: this.network }, name),
        connect: async (host, port, localPort) => node.connect({ namespace: this.pod().namespace, network: this.network }, host, port, localPort),
        sendDatagram: (localPort, host, port, data) => node.udp.send({ network: this.network }, localPort, host, port, data),
      } : {}),
    });
    this.refresh();
  }

  /** Makes the pod reachable at its pod IP (again, if it changed). */
  refresh(): void {
    const { podIP, namespace, name } = this.pod();
    if (podIP === this.#attachedIP) return;
    this.detach();
    this.#attachedIP = podIP;
    if (podIP && this.node) {
      const terminating = () => Boolean(this.desired().pod.metadata['deletionTimestamp']);
      this.#detach = this.node.attach(podIP, { namespace, name, network: this.network, terminating });
    }
  }

  /** The pod is gone: its IP no longer reaches it. */
  detach(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.#attachedIP = undefined;
  }

  /** The Service variables for a container of the pod, from the Services known now. */
  serviceEnv(): Array<[string, string]> {
    if (!this.node) return [];
    const { namespace, enableServiceLinks } = this.pod();
    return serviceEnv(this.node.services.services, namespace, enableServiceLinks);
  }
}
