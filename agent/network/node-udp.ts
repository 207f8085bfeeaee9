// The node's part of UDP between pods (decision 054): routes the datagrams of this node's pods
// (udp-route.ts), keeps the Service flows (udp-flows.ts) and the sockets out of the cluster
// (udp-outside.ts), and takes the frames other nodes send over the tunnel (udp-tunnel.ts),
// checking that their source is a pod of the sending node and that ingress policies allow them.
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import type { PodNetwork } from '../pods/pod-network.js';
import type { Egress } from './egress.js';
import type { NetworkPolicies } from './policy-rules.js';
import type { ServiceTable } from './service-table.js';
import type { PeerTable } from './tunnel-peers.js';
import { checkIngress } from './policy-check.js';
import type { DatagramFrame } from './udp-frames.js';
import { UdpFlows } from './udp-flows.js';
import { OutsideUdp } from './udp-outside.js';
import { deliverUdp, routeUdp, type UdpRoutes } from './udp-route.js';

/** Carries a datagram to a pod of another node (UdpLinks.send). */
export type RemoteDatagrams = (peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array) => void | Promise<void>;

/** What UDP needs of the node's network (NodeNetwork). */
export interface UdpNode {
  pod(podIP: string): { namespace: string; name: string; network: PodNetwork; terminating?(): boolean } | undefined;
  readonly services: ServiceTable;
  readonly policies: NetworkPolicies;
  readonly peers: PeerTable;
  readonly egress: Egress;
  isPodAddress(ip: string): boolean;
  /** The peer, or the owner looked up earlier (on-demand peers), whose pod CIDR holds `ip`. */
  knownOwner?(ip: string): DesiredPeer | undefined;
  /** The owner of a pod IP no peer holds, asked of the control plane; rejects with PodNetworkError. */
  lookupOwner?(ip: string): Promise<DesiredPeer | undefined>;
  canLookUp?(): boolean;
}

export class NodeUdp implements UdpRoutes {
  readonly flows: UdpFlows;
  readonly #outside: OutsideUdp;
  /** Datagrams to other nodes go here (the mesh sets it); none: they are not carried. */
  remote: RemoteDatagrams | undefined;
  /** Frames from other nodes: delivered, and dropped (forged source, no such pod, policy, full queue). */
  readonly received = { delivered: 0, forged: 0, unknownPod: 0, denied: 0, dropped: 0 };

  constructor(
    private readonly node: UdpNode,
    private readonly now: () => number,
  ) {
    this.flows = new UdpFlows(now);
    this.#outside = new OutsideUdp({ policies: node.policies, egress: node.egress }, now);
  }

  get services() {
    return this.node.services;
  }
  get policies() {
    return this.node.policies;
  }
  pod(ip: string) {
    return this.node.pod(ip);
  }
  isPodAddress(ip: string): boolean {
    return this.node.isPodAddress(ip);
  }
  udpOwner(podIP: string): DesiredPeer | undefined {
    return this.remote && !this.node.pod(podIP) ? this.#owner(podIP) : undefined;
  }
  #owner(ip: string): DesiredPeer | undefined {
    return this.node.knownOwner ? this.node.knownOwner(ip) : this.node.peers.owner(ip);
  }
  canLookUp(): boolean {
    return Boolean(this.remote && this.node.lookupOwner && this.node.canLookUp?.());
  }
  /** The owner of a pod IP of another node that no peer holds (on-demand peers). */
  lookupOwner(podIP: string): Promise<DesiredPeer | undefined> {
    return this.remote && this.node.lookupOwner ? this.node.lookupOwner(podIP) : Promise.resolve(undefined);
  }
  sendRemote(peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void | Promise<void> {
    return this.remote!(peer, from, podIP, port, data);
  }
  egressAllows(ip: string): boolean {
    return this.node.egress.allows(ip);
  }
  sendOutside(source: { network: PodNetwork; port: number }, ip: string, port: number, data: Uint8Array): Promise<void> {
    const sourceIP = source.network.podIP;
    const pod = sourceIP ? this.node.pod(sourceIP) : undefined;
    return this.#outside.send(sourceIP ? { ip: sourceIP, pod: pod && `${pod.namespace}/${pod.name}` } : undefined, source, ip, port, data);
  }

  /** Routes a datagram of a pod of this node (PodNetworkPorts.sendDatagram); throws PodNetworkError when refused. */
  send(source: { network: PodNetwork }, localPort: number, host: string, port: number, data: Uint8Array): void | Promise<void> {
    return routeUdp(this, source, localPort, host, port, data, this.now());
  }

  /** A frame from node `node` (the tunnel): whether it reached a socket's queue. */
  fromPeer(node: string, frame: DatagramFrame): boolean {
    if (this.#owner(frame.from.host)?.node !== node) {
      this.received.forged++; // a node speaks only for its own pods
      // a sender no peer holds may be a node found on demand: ask, so its next frames are known
      if (this.node.lookupOwner && this.node.isPodAddress(frame.from.host)) void this.node.lookupOwner(frame.from.host).catch(() => undefined);
      return false;
    }
    const target = this.node.pod(frame.to.host);
    if (!target) {
      this.received.unknownPod++;
      return false;
    }
    if (!this.node.policies.empty) {
      try {
        checkIngress(this.node.policies, { ip: frame.from.host }, { ip: frame.to.host, pod: `${target.namespace}/${target.name}` }, frame.to.port, 'UDP');
      } catch {
        this.received.denied++;
        return false;
      }
    }
    const delivered = deliverUdp(this, target.network, frame.to.port, frame.from, frame.data);
    if (delivered) this.received.delivered++;
    else this.received.dropped++;
    return delivered;
  }

  close(): void {
    this.#outside.close();
  }
}
