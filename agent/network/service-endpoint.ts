// The one choice of a Service's endpoint for a connection from a pod of this node, as kube-proxy
// makes it, for HTTP requests (node-network.ts) and raw TCP connects (tcp-connect.ts) alike:
// - a ClusterIP Service: the Ready endpoints of the service port (none, or no such port:
//   connection-refused); a headless one: its Ready pods' IPs on the port asked for;
// - candidates: this node's pods, serving ones first (a pod being deleted stops serving before its
//   endpoint update arrives: it is chosen only when nothing else is left), endpoints on other nodes
//   that can be reached (kube-proxy balances over all of them), and, where the caller carries them,
//   endpoints out of the pod network (hand-written Endpoints, the API server's);
// - among them round robin, or by client address with sessionAffinity ClientIP (ServiceTable.pick).
import type { DesiredPeer, DesiredService } from '../../api/mqtt/messages.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import { ServiceTable, type Endpoint } from './service-table.js';

/** What the choice needs of the node's network. */
export interface EndpointRoutes {
  readonly services: ServiceTable;
  /** The pod of this node with this IP. */
  pod(ip: string): { terminating?(): boolean } | undefined;
  /** The other node running `ip` when the connection can be carried there (none: not a candidate). */
  remoteOwner(ip: string): DesiredPeer | undefined;
  /** Whether `ip` is in the pod network; given, endpoints outside it are candidates as this node's. */
  isPodAddress?(ip: string): boolean;
}

/**
 * The endpoint a connection from `clientIP` to port `port` of `service` goes to; throws
 * PodNetworkError: connection-refused (no such port, no Ready endpoint), destination-unavailable
 * (the Ready endpoints run on nodes that cannot be reached).
 */
export function chooseEndpoint(routes: EndpointRoutes, service: DesiredService, port: number, clientIP: string, nowMs: number, protocol: 'TCP' | 'UDP' = 'TCP'): Endpoint {
  const key = `${service.namespace}/${service.name}`;
  let candidates: Endpoint[];
  if (!service.clusterIP || service.clusterIP === 'None') {
    // DNS answers the Ready pods' IPs; the port is the pod's own
    candidates = [...new Set(service.endpoints.flatMap((group) => group.ips))].map((ip) => ({ ip, port }));
  } else {
    if (!ServiceTable.servicePort(service, port, protocol)) throw new PodNetworkError('connection-refused', `service ${key} has no port ${port}/${protocol}`);
    candidates = ServiceTable.endpoints(service, port, protocol);
  }
  if (candidates.length === 0) throw new PodNetworkError('connection-refused', `service ${key} has no ready endpoints`);
  const outside = routes.isPodAddress ? (ip: string) => !routes.isPodAddress!(ip) : () => false;
  const local = candidates.filter((endpoint) => routes.pod(endpoint.ip) || outside(endpoint.ip));
  const serving = local.filter((endpoint) => !routes.pod(endpoint.ip)?.terminating?.());
  const remote = candidates.filter((endpoint) => !routes.pod(endpoint.ip) && routes.remoteOwner(endpoint.ip));
  const pool = serving.length + remote.length > 0 ? [...serving, ...remote] : local;
  const endpoint = routes.services.pick(service, port, pool, clientIP, nowMs);
  if (!endpoint) throw new PodNetworkError('destination-unavailable', `the ready endpoints of service ${key} run on other nodes that cannot be reached`);
  return endpoint;
}
