// The way into a Service from the node's network (NodePort, LoadBalancer ports), as kube-proxy's
// rules for them: a Ready endpoint of the service port, round robin (or by client address with
// sessionAffinity ClientIP), serving endpoints before terminating ones, and another endpoint when
// the chosen one refused the request before its guest saw a byte (its container stopped or is
// stopping, nothing holds the port): a rolling update loses no request.
// The endpoint's NetworkPolicies (ingress) apply to the source address the pod sees.
// externalTrafficPolicy Local sends only to this node's endpoints. Endpoints on other nodes are
// not reached yet (no tunnel between agents): the request gets 503 when only they are Ready.
import type { DesiredService } from '../../api/mqtt/messages.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import { GatewayError } from '../pods/host-port-proxy.js';
import { deliver, type NodeNetwork } from './node-network.js';
import { checkIngress } from './policy-check.js';
import { ServiceTable, type Endpoint } from './service-table.js';

export interface ServiceEntry {
  /** The client's address (session affinity; kept in x-forwarded-for with externalTrafficPolicy Local). */
  client: string;
  /** The node's address: what the pod sees as the source with externalTrafficPolicy Cluster (SNAT). */
  nodeIP: string;
}

/** Sends one request that arrived on the node for service port `port` of `service`. */
export async function requestToService(network: NodeNetwork, service: DesiredService, port: number, request: HttpRequest, timeoutMs: number, entry: ServiceEntry): Promise<HttpResponse> {
  const key = `${service.namespace}/${service.name}`;
  const local = service.externalTrafficPolicy === 'Local';
  const all = ServiceTable.endpoints(service, port);
  if (all.length === 0) throw new GatewayError(503, `service ${key} has no ready endpoints`);
  const here = all.filter((e) => network.pod(e.ip));
  if (here.length === 0) {
    throw new GatewayError(503, local
      ? `service ${key} has no ready endpoints on this node (externalTrafficPolicy: Local)`
      : `the ready endpoints of service ${key} run on other nodes: traffic between nodes is not carried yet`);
  }
  const source = local ? entry.client : entry.nodeIP;
  const forwarded = withSource(request, source);
  const tried = new Set<string>();
  let lastError: PodNetworkError | undefined;
  for (;;) {
    const remaining = here.filter((e) => !tried.has(`${e.ip}:${e.port}`));
    const endpoint = network.services.pick(service, port, orderServing(network, remaining), entry.client);
    if (!endpoint) break;
    tried.add(`${endpoint.ip}:${endpoint.port}`);
    const pod = network.pod(endpoint.ip);
    if (!pod) continue; // gone meanwhile
    try {
      // the pod's NetworkPolicies see the source the pod sees (the client, or the node after SNAT)
      checkIngress(network.policies, { ip: source }, { ip: endpoint.ip, pod: `${pod.namespace}/${pod.name}` }, endpoint.port);
      return await deliver(pod.network, endpoint.port, forwarded, timeoutMs);
    } catch (error) {
      if (!(error instanceof PodNetworkError)) throw error;
      // refused before the guest saw it: another endpoint may take it; anything else was delivered
      if (error.code !== 'connection-refused') throw new GatewayError(error.code === 'HTTP-response-timeout' ? 504 : 502, error.message);
      lastError = error;
    }
  }
  throw new GatewayError(503, `no endpoint of service ${key} took the request: ${lastError?.message ?? 'none is ready'}`);
}

/** Serving endpoints; the terminating ones only when no other is left (they still serve until stopped). */
function orderServing(network: NodeNetwork, endpoints: readonly Endpoint[]): Endpoint[] {
  const serving = endpoints.filter((e) => !network.pod(e.ip)?.terminating?.());
  return serving.length > 0 ? serving : [...endpoints];
}

/** The source address as the pod would see it, appended to x-forwarded-for as a proxy does. */
function withSource(request: HttpRequest, source: string): HttpRequest {
  const headers = request.headers.filter(([name]) => name !== 'x-forwarded-for');
  const previous = request.headers.filter(([name]) => name === 'x-forwarded-for').map(([, value]) => value);
  headers.push(['x-forwarded-for', [...previous, source].join(', ')]);
  return { ...request, headers };
}
