// UDP to a Service's ClusterIP is balanced per flow, as kube-proxy does with conntrack (decision
// 054): the first datagram from a client socket (pod IP and port) to a service port picks an
// endpoint (service-endpoint.ts: round robin, session affinity, terminating pods last); later
// datagrams of that flow go to the same endpoint while it stays a Ready endpoint and the flow is
// used within UDP_FLOW_TIMEOUT_MS (nf_conntrack_udp_timeout is 30 s). Replies from the endpoint to
// the client are rewritten to come from the ClusterIP and service port (conntrack's reverse NAT),
// so a client socket connected to the ClusterIP takes them. Flows live on the client's node.
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import type { Endpoint } from './service-table.js';

export const UDP_FLOW_TIMEOUT_MS = 30_000;
/** Flows kept at most (the oldest go first), so no pod can grow the table without bound. */
export const MAX_UDP_FLOWS = 65_536;

interface Flow {
  client: DatagramSource;
  service: DatagramSource;
  endpoint: Endpoint;
  usedAt: number;
}

const key = (a: DatagramSource, b: DatagramSource) => `${a.host}:${a.port}>${b.host}:${b.port}`;

export class UdpFlows {
  readonly #forward = new Map<string, Flow>();
  readonly #reverse = new Map<string, Flow>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The endpoint the flow from `client` to `service` goes to: its flow's, while `valid` says it is
   * still an endpoint of the service port and the flow is fresh, else a new choice (`choose`, which
   * may throw PodNetworkError).
   */
  endpoint(client: DatagramSource, service: DatagramSource, choose: () => Endpoint, valid: (endpoint: Endpoint) => boolean): Endpoint {
    const now = this.now();
    const forwardKey = key(client, service);
    const flow = this.#forward.get(forwardKey);
    if (flow && now - flow.usedAt <= UDP_FLOW_TIMEOUT_MS && valid(flow.endpoint)) {
      flow.usedAt = now;
      return flow.endpoint;
    }
    if (flow) this.#remove(forwardKey, flow);
    const endpoint = choose();
    const created: Flow = { client: { ...client }, service: { ...service }, endpoint, usedAt: now };
    while (this.#forward.size >= MAX_UDP_FLOWS) {
      const [oldestKey, oldest] = this.#forward.entries().next().value as [string, Flow];
      this.#remove(oldestKey, oldest);
    }
    this.#forward.set(forwardKey, created);
    this.#reverse.set(key({ host: endpoint.ip, port: endpoint.port }, client), created);
    return endpoint;
  }

  /** Where a datagram from `from` to `to` seems to come from: the Service's address when it is a reply of a flow. */
  replySource(from: DatagramSource, to: DatagramSource): DatagramSource {
    if (this.#reverse.size === 0) return from;
    const flow = this.#reverse.get(key(from, to));
    if (!flow || this.now() - flow.usedAt > UDP_FLOW_TIMEOUT_MS) return from;
    flow.usedAt = this.now(); // a reply keeps the flow, as conntrack does
    return flow.service;
  }

  get size(): number {
    return this.#forward.size;
  }

  #remove(forwardKey: string, flow: Flow): void {
    this.#forward.delete(forwardKey);
    const reverseKey = key({ host: flow.endpoint.ip, port: flow.endpoint.port }, flow.client);
    if (this.#reverse.get(reverseKey) === flow) this.#reverse.delete(reverseKey);
  }
}
