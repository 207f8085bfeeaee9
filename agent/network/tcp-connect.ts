// The routing of a guest's wasi:sockets TCP connect, as kube-proxy and the pod's network
// namespace would route its SYN: the pod's own loopback or pod IP, another pod's IP on this
// node, a Service's ClusterIP (the endpoint chosen as for HTTP, service-endpoint.ts: round robin,
// session affinity, terminating pods last; endpoints on other nodes count), once the
// NetworkPolicies allow it (policy-check.ts, as for HTTP). On this node the answer is the acceptor
// of whoever holds the port (pod-byte-stream.ts); the bytes then move between the two guests'
// workers in shared memory, never through the node's kernel. A pod of another node is reached
// through the mesh (a byte stream over the tunnel or the relay, decision 037), an address out of
// the cluster through the agent's network where egress is allowed (tcp-outside.ts); the guest's
// end is then spliced to that stream on the agent's main thread.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import type { StreamAcceptor } from '../../runtime/net/byte-ring.js';
import { parseIp } from '../../runtime/net/name-lookup.js';
import { duplexAcceptor } from '../../runtime/net/ring-duplex.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { PodNetwork } from '../pods/pod-network.js';
import { splice } from '../../api/net/framed-stream.js';
import { portAcceptor } from './pod-byte-stream.js';
import { checkEgress, checkIngress } from './policy-check.js';
import type { NetworkPolicies } from './policy-rules.js';
import type { ServiceTable } from './service-table.js';
import { chooseEndpoint } from './service-endpoint.js';

/** What routing needs of the node's network (NodeNetwork). */
export interface TcpRoutes {
  pod(podIP: string): { namespace: string; name: string; network: PodNetwork; terminating?(): boolean } | undefined;
  readonly services: ServiceTable;
  readonly policies: NetworkPolicies;
  /** Whether `ip` is in the cluster's pod network (the desired state's clusterCidr). */
  isPodAddress(ip: string): boolean;
  /** The node running `podIP` when it is another one that can be reached (the mesh is there). */
  remoteOwner?(podIP: string): DesiredPeer | undefined;
  /** The node running `podIP` when no peer holds it, asked of the control plane (on-demand peers); rejects with PodNetworkError. */
  lookupOwner?(podIP: string): Promise<DesiredPeer | undefined>;
  /** Whether lookupOwner can ask anyone (else an unknown pod IP is refused at once). */
  canLookUp?(): boolean;
  /** A byte stream to a pod port of another node (mesh.ts); rejects with PodNetworkError. */
  openRemote?(peer: DesiredPeer, podIP: string, port: number, from: { host: string; port: number }): Promise<Duplex>;
  /** Whether the agent itself allows egress to `ip` (--allow-egress). */
  egressAllows?(ip: string): boolean;
  /** A connection out of the cluster once egress allows it (tcp-outside.ts); rejects with PodNetworkError. */
  openOutside?(sourceIP: string | undefined, ip: string, port: number): Promise<Duplex>;
}

/** The acceptor of a connection whose far end is `stream` (another node's pod, an outside server). */
export function streamAcceptor(stream: Duplex): StreamAcceptor {
  return Object.assign(duplexAcceptor((ring) => splice(ring, stream)), { abandon: () => void stream.destroy() });
}

/**
 * The acceptor a connect from `source` to `host`:`port` reaches (a promise when it is on another
 * node or outside); throws (or rejects with) PodNetworkError, the guest's error-code.
 */
export function routeTcp(node: TcpRoutes, source: { network: PodNetwork }, host: string, port: number, localPort: number, nowMs: number): StreamAcceptor | Promise<StreamAcceptor> {
  const where = `${host.slice(0, 64)}:${port}`;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || isIP(host) === 0) {
    throw new PodNetworkError('destination-IP-unroutable', `dial tcp ${where}: invalid address`);
  }
  // 127.0.0.1 and ::1 are the pod's own; another loopback address the agent's --allow-egress
  // names explicitly is the node's (a local service the operator opened to pods)
  const nodeLoopback = isLoopback(host) && host !== '127.0.0.1' && host !== '::1' && node.egressAllows?.(host) === true;
  const loopback = isLoopback(host) && !nodeLoopback;
  const own = loopback || host === source.network.podIP;
  const from = { host: loopback ? host : source.network.podIP ?? '127.0.0.1', port: Number.isInteger(localPort) ? localPort : 0 };
  const tagged = (accept: StreamAcceptor): StreamAcceptor => (end) => accept({ ...end, from });
  if (own) return tagged(portAcceptor(source.network, port));
  const toPod = (podIP: string, podPort: number): StreamAcceptor => {
    allowedByPolicies(node, source.network.podIP, podIP, podPort);
    return tagged(portAcceptor(node.pod(podIP)!.network, podPort));
  };
  const toRemote = async (peer: DesiredPeer, podIP: string, podPort: number): Promise<StreamAcceptor> => {
    const client = source.network.podIP;
    if (client && !node.policies.empty) {
      const sourcePod = node.pod(client);
      checkEgress(node.policies, { ip: client, pod: sourcePod && `${sourcePod.namespace}/${sourcePod.name}` }, { ip: podIP }, podPort);
    }
    return streamAcceptor(await node.openRemote!(peer, podIP, podPort, from));
  };
  if (node.pod(host)) return toPod(host, port);
  const service = node.services.byClusterIP(host);
  if (!service) {
    const peer = node.remoteOwner?.(host);
    if (peer) return toRemote(peer, host, port);
    if ((nodeLoopback || !node.isPodAddress(host)) && node.openOutside) {
      return node.openOutside(source.network.podIP, host, port).then(streamAcceptor);
    }
    const unknown = () => new PodNetworkError('destination-IP-prohibited', `dial tcp ${where}: ${host} is no pod of this node and no Service, and its node is not known`);
    if (!nodeLoopback && node.isPodAddress(host) && node.remoteOwner && node.lookupOwner && node.canLookUp?.()) {
      return node.lookupOwner(host).then((owner) => {
        if (!owner) throw unknown();
        return toRemote(owner, host, port);
      });
    }
    throw new PodNetworkError('destination-IP-prohibited', `dial tcp ${where}: ${host} is no pod of this node and no Service, and its node is not known`);
  }
  // the same choice as HTTP's; endpoints out of the pod network are not carried for raw TCP
  const endpoint = chooseEndpoint({ services: node.services, pod: (ip) => node.pod(ip), remoteOwner: (ip) => node.remoteOwner?.(ip) }, service, port, source.network.podIP ?? '', nowMs);
  if (node.pod(endpoint.ip)) return toPod(endpoint.ip, endpoint.port);
  return toRemote(node.remoteOwner!(endpoint.ip)!, endpoint.ip, endpoint.port);
}

/** The NetworkPolicies let `from` reach `podIP`:`port` (egress, then ingress; the same checks as HTTP); throws PodNetworkError. */
function allowedByPolicies(node: TcpRoutes, from: string | undefined, podIP: string, port: number): void {
  if (!from || from === podIP || node.policies.empty) return;
  const sourcePod = node.pod(from);
  const target = node.pod(podIP)!;
  const client = { ip: from, pod: sourcePod && `${sourcePod.namespace}/${sourcePod.name}` };
  const server = { ip: podIP, pod: `${target.namespace}/${target.name}` };
  checkEgress(node.policies, client, server, port);
  checkIngress(node.policies, client, server, port);
}

/** 127.0.0.0/8 and ::1, in any textual form. */
function isLoopback(host: string): boolean {
  const ip = parseIp(host);
  if (ip?.tag === 'ipv4') return ip.val[0] === 127;
  return ip?.tag === 'ipv6' && ip.val.slice(0, 7).every((word) => word === 0) && ip.val[7] === 1;
}
