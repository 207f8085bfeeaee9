// The way into a Service from the node's network (NodePort, LoadBalancer ports), as kube-proxy's
// rules for them: a Ready endpoint of the service port, round robin (or by client address with
// sessionAffinity ClientIP), serving endpoints before terminating ones, and another endpoint when
// the chosen one refused the request before its guest saw a byte (its container stopped or is
// stopping, nothing holds the port): a rolling update loses no request.
// The endpoint's NetworkPolicies (ingress) apply to the source address the pod sees.
// externalTrafficPolicy Local sends only to this node's endpoints; Cluster also to endpoints on
// other nodes, through the agents' tunnel (or relay), for HTTP requests and raw TCP connections,
// with this node's address as the source (kube-proxy's SNAT): the other node trusts it as this
// node's own address (NodeNetwork.vouchedSource).
import type { Duplex } from 'node:stream';
import type { DesiredService } from '../../api/mqtt/messages.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import { GatewayError } from '../pods/host-port-proxy.js';
import { deliver, type NodeNetwork } from './node-network.js';
import { checkIngress } from './policy-check.js';
import { openPodByteStream } from './pod-byte-stream.js';
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
  // externalTrafficPolicy Cluster: endpoints on other nodes too, through the agents' tunnel (mesh.ts)
  const remoteOf = (ip: string) => (!local && network.remote && !network.pod(ip) ? network.peers.owner(ip) : undefined);
  const there = all.filter((e) => remoteOf(e.ip));
  if (here.length === 0 && there.length === 0) {
    throw new GatewayError(503, local
      ? `service ${key} has no ready endpoints on this node (externalTrafficPolicy: Local)`
      : `the ready endpoints of service ${key} run on other nodes that cannot be reached`);
  }
  const source = local ? entry.client : entry.nodeIP;
  const forwarded = withSource(request, source);
  const tried = new Set<string>();
  let lastError: PodNetworkError | undefined;
  for (;;) {
    const remaining = (list: readonly Endpoint[]) => list.filter((e) => !tried.has(`${e.ip}:${e.port}`));
    const serving = orderServing(network, remaining(here));
    const pool = [...serving.filter((e) => !network.pod(e.ip)?.terminating?.()), ...remaining(there)];
    const endpoint = network.services.pick(service, port, pool.length > 0 ? pool : serving, entry.client);
    if (!endpoint) break;
    tried.add(`${endpoint.ip}:${endpoint.port}`);
    const pod = network.pod(endpoint.ip);
    const peer = pod ? undefined : remoteOf(endpoint.ip);
    if (!pod && !peer) continue; // gone meanwhile
    try {
      // the peer's policies see this node's address (SNAT: Local never leaves the node)
      if (peer) return await network.remote!.request(peer, endpoint.ip, endpoint.port, forwarded, timeoutMs, source);
      // the pod's NetworkPolicies see the source the pod sees (the client, or the node after SNAT)
      checkIngress(network.policies, { ip: source }, { ip: endpoint.ip, pod: `${pod!.namespace}/${pod!.name}` }, endpoint.port);
      return await deliver(pod!.network, endpoint.port, forwarded, timeoutMs);
    } catch (error) {
      if (!(error instanceof PodNetworkError)) throw error;
      // refused before the guest saw it: another endpoint may take it; anything else was delivered
      if (error.code !== 'connection-refused' && error.code !== 'destination-unavailable') throw new GatewayError(error.code === 'HTTP-response-timeout' ? 504 : 502, error.message);
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

/**
 * Raw TCP into a Service whose endpoints on this node are guest listeners (wasi:sockets): a byte
 * stream to one of them, chosen per connection (serving before terminating, another one when
 * refused). Undefined when the Service's endpoints here are HTTP handlers (or none): the caller
 * serves the connection as HTTP, request by request. Throws PodNetworkError when every raw
 * endpoint refused.
 */
export function connectToService(network: NodeNetwork, service: DesiredService, port: number, entry: ServiceEntry & { clientPort: number }): Duplex | undefined {
  const local = service.externalTrafficPolicy === 'Local';
  const raw = ServiceTable.endpoints(service, port).filter((e) => network.pod(e.ip)?.network.holder(e.port)?.kind === 'listener');
  if (raw.length === 0) return undefined;
  const source = local ? entry.client : entry.nodeIP;
  const tried = new Set<string>();
  let lastError: PodNetworkError | undefined;
  for (;;) {
    const endpoint = network.services.pick(service, port, orderServing(network, raw.filter((e) => !tried.has(`${e.ip}:${e.port}`))), entry.client);
    if (!endpoint) break;
    tried.add(`${endpoint.ip}:${endpoint.port}`);
    const pod = network.pod(endpoint.ip);
    if (!pod) continue;
    try {
      checkIngress(network.policies, { ip: source }, { ip: endpoint.ip, pod: `${pod.namespace}/${pod.name}` }, endpoint.port);
      return openPodByteStream(pod.network, endpoint.port, { from: { host: source, port: local ? entry.clientPort : 0 } });
    } catch (error) {
      if (!(error instanceof PodNetworkError)) throw error;
      lastError = error;
    }
  }
  throw lastError ?? new PodNetworkError('connection-refused', `service ${service.namespace}/${service.name} has no ready endpoints`);
}

/**
 * Raw TCP into a Service with no endpoint on this node but Ready ones on others (externalTrafficPolicy
 * Cluster): a byte stream over the tunnel or the relay (decision 037) to a guest listener there, chosen
 * per connection, another one when refused. Resolves undefined when the endpoint is an HTTP
 * handler (the caller serves the connection as HTTP, request by request, which balances each
 * request); undefined at once when there is nothing to try that way. Rejects with PodNetworkError
 * when every endpoint refused.
 */
export function connectToRemoteService(network: NodeNetwork, service: DesiredService, port: number, entry: ServiceEntry): Promise<Duplex | undefined> | undefined {
  if (service.externalTrafficPolicy === 'Local' || !network.remote?.openStream) return undefined;
  const all = ServiceTable.endpoints(service, port);
  if (all.some((e) => network.pod(e.ip))) return undefined;
  const remote = all.filter((e) => network.remoteOwner(e.ip));
  if (remote.length === 0) return undefined;
  return (async () => {
    const tried = new Set<string>();
    let lastError: PodNetworkError | undefined;
    for (;;) {
      const endpoint = network.services.pick(service, port, remote.filter((e) => !tried.has(`${e.ip}:${e.port}`)), entry.client);
      if (!endpoint) break;
      tried.add(`${endpoint.ip}:${endpoint.port}`);
      const peer = network.remoteOwner(endpoint.ip);
      if (!peer) continue;
      try {
        // as after kube-proxy's SNAT: the pod and its policies see this node's address
        return await network.openRemote(peer, endpoint.ip, endpoint.port, { host: entry.nodeIP, port: 0 }, { listenerOnly: true });
      } catch (error) {
        if (!(error instanceof PodNetworkError)) throw error;
        if (error.code === 'HTTP-request-denied') return undefined;
        lastError = error;
      }
    }
    throw lastError ?? new PodNetworkError('connection-refused', `service ${service.namespace}/${service.name} has no ready endpoints`);
  })();
}
