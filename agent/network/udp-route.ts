// The routing of a guest's UDP datagram (decision 054), as the pod's network namespace and
// kube-proxy would route the packet: the pod's own loopback or pod IP, another pod's IP on this
// node, a Service's ClusterIP (per flow, udp-flows.ts), a pod of another node (the tunnel,
// udp-tunnel.ts), an address out of the cluster where egress allows it (udp-outside.ts). The
// NetworkPolicies are checked for protocol UDP: egress where it is sent, ingress where it is
// received, after the Service's endpoint is chosen. What is refused throws PodNetworkError (the
// guest learns it for the first datagram to an address); what is lost on the way is dropped.
import { isIP } from 'node:net';
import type { DesiredPeer, DesiredService } from '../../api/mqtt/messages.js';
import { parseIp } from '../../runtime/net/name-lookup.js';
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { PodNetwork } from '../pods/pod-network.js';
import { checkEgress, checkIngress } from './policy-check.js';
import type { NetworkPolicies } from './policy-rules.js';
import { chooseEndpoint } from './service-endpoint.js';
import { ServiceTable } from './service-table.js';
import type { UdpFlows } from './udp-flows.js';

/** What routing needs of the node's network (NodeNetwork). */
export interface UdpRoutes {
  pod(podIP: string): { namespace: string; name: string; network: PodNetwork; terminating?(): boolean } | undefined;
  readonly services: ServiceTable;
  readonly policies: NetworkPolicies;
  readonly flows: UdpFlows;
  isPodAddress(ip: string): boolean;
  /** The node running `podIP` when it is another one datagrams can be carried to. */
  udpOwner?(podIP: string): DesiredPeer | undefined;
  /** The owner of a pod IP no peer holds, asked of the control plane (on-demand peers); rejects with PodNetworkError. */
  lookupOwner?(podIP: string): Promise<DesiredPeer | undefined>;
  /** Whether lookupOwner can ask anyone (else an unknown pod IP is refused at once). */
  canLookUp?(): boolean;
  /** Carries a datagram to a pod of another node (the tunnel); throws PodNetworkError when there is no way. */
  sendRemote?(peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void;
  /** Whether the agent itself allows egress to `ip` (--allow-egress). */
  egressAllows?(ip: string): boolean;
  /** A datagram out of the cluster once egress allows it; rejects with PodNetworkError. */
  sendOutside?(source: { network: PodNetwork; port: number }, ip: string, port: number, data: Uint8Array): void | Promise<void>;
}

/** Routes a datagram from `source`'s UDP port `localPort` to `host`:`port`. */
export function routeUdp(node: UdpRoutes, source: { network: PodNetwork }, localPort: number, host: string, port: number, data: Uint8Array, nowMs: number): void | Promise<void> {
  const where = `${host.slice(0, 64)}:${port}`;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || isIP(host) === 0 || !Number.isInteger(localPort) || localPort < 1 || localPort > 65535) {
    throw new PodNetworkError('destination-IP-unroutable', `dial udp ${where}: invalid address`);
  }
  const nodeLoopback = isLoopback(host) && host !== '127.0.0.1' && host !== '::1' && node.egressAllows?.(host) === true;
  const loopback = isLoopback(host) && !nodeLoopback;
  const podIP = source.network.podIP;
  if (loopback || host === podIP) {
    source.network.udp.deliver(port, { host: loopback ? host : podIP!, port: localPort }, data);
    return;
  }
  const from: DatagramSource = { host: podIP ?? '127.0.0.1', port: localPort };
  if (node.pod(host)) return toPod(node, from, host, port, data);
  const service = node.services.byClusterIP(host);
  if (service) return toService(node, from, service, port, data, nowMs);
  const peer = node.udpOwner?.(host);
  if (peer) return toRemote(node, peer, from, host, port, data);
  if ((nodeLoopback || !node.isPodAddress(host)) && node.sendOutside) return node.sendOutside({ network: source.network, port: localPort }, host, port, data);
  const unknown = () => new PodNetworkError('destination-IP-prohibited', `dial udp ${where}: ${host} is no pod of this node and no Service, and its node is not known`);
  if (!nodeLoopback && node.lookupOwner && node.canLookUp?.()) {
    return node.lookupOwner(host).then((owner) => {
      if (!owner) throw unknown();
      return toRemote(node, owner, from, host, port, data);
    });
  }
  throw new PodNetworkError('destination-IP-prohibited', `dial udp ${where}: ${host} is no pod of this node and no Service, and its node is not known`);
}

function toService(node: UdpRoutes, from: DatagramSource, service: DesiredService, port: number, data: Uint8Array, nowMs: number): void {
  const routes = { services: node.services, pod: (ip: string) => node.pod(ip), remoteOwner: (ip: string) => node.udpOwner?.(ip) };
  const endpoint = node.flows.endpoint(from, { host: service.clusterIP!, port },
    () => chooseEndpoint(routes, service, port, from.host, nowMs, 'UDP'),
    (e) => ServiceTable.endpoints(service, port, 'UDP').some((c) => c.ip === e.ip && c.port === e.port) && (node.pod(e.ip) !== undefined || routes.remoteOwner(e.ip) !== undefined));
  if (node.pod(endpoint.ip)) return toPod(node, from, endpoint.ip, endpoint.port, data);
  const peer = node.udpOwner?.(endpoint.ip);
  if (!peer) throw new PodNetworkError('destination-unavailable', `the endpoint ${endpoint.ip} of service ${service.namespace}/${service.name} cannot be reached`);
  toRemote(node, peer, from, endpoint.ip, endpoint.port, data);
}

/** To a pod of this node once egress and ingress allow it. */
function toPod(node: UdpRoutes, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void {
  const target = node.pod(podIP)!;
  if (from.host !== podIP && !node.policies.empty) {
    const sourcePod = node.pod(from.host);
    const client = { ip: from.host, pod: sourcePod && `${sourcePod.namespace}/${sourcePod.name}` };
    const server = { ip: podIP, pod: `${target.namespace}/${target.name}` };
    if (sourcePod) checkEgress(node.policies, client, server, port, 'UDP');
    checkIngress(node.policies, client, server, port, 'UDP');
  }
  deliverUdp(node, target.network, port, from, data);
}

function toRemote(node: UdpRoutes, peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void {
  if (!node.policies.empty) {
    const sourcePod = node.pod(from.host);
    if (sourcePod) checkEgress(node.policies, { ip: from.host, pod: `${sourcePod.namespace}/${sourcePod.name}` }, { ip: podIP }, port, 'UDP');
  }
  if (!node.sendRemote) throw new PodNetworkError('destination-unavailable', `${podIP} runs on node ${peer.node}: no way to other nodes`);
  node.sendRemote(peer, from, podIP, port, data);
}

/** Hands a datagram to `network`'s UDP port, a reply of a Service flow seeming to come from the Service. */
export function deliverUdp(node: Pick<UdpRoutes, 'flows'>, network: PodNetwork, port: number, from: DatagramSource, data: Uint8Array): boolean {
  const to = { host: network.podIP ?? '127.0.0.1', port };
  return network.udp.deliver(port, node.flows.replySource(from, to), data);
}

/** 127.0.0.0/8 and ::1, in any textual form. */
function isLoopback(host: string): boolean {
  const ip = parseIp(host);
  if (ip?.tag === 'ipv4') return ip.val[0] === 127;
  return ip?.tag === 'ipv6' && ip.val.slice(0, 7).every((word) => word === 0) && ip.val[7] === 1;
}
