// The peers part of a node's desired state: every other node with a pod CIDR, its InternalIP and
// the port of its tunnel (reported by its agent as Node status.daemonEndpoints.kubeletEndpoint.Port),
// so an agent carries traffic for a pod IP of another node to that node (agent/network/tunnel-*.ts).
import type { DesiredPeer, DesiredService } from '../../api/mqtt/messages.js';
import type { Node } from '../../api/types/node.js';
import { inIpv4Block, ipv4ToNumber, parseIpv4Block } from '../../api/pod-addresses.js';

/** Every node's peer entry, sorted by name (the same list for all; each node leaves itself out). */
export function desiredPeers(nodes: readonly Node[]): DesiredPeer[] {
  const out: DesiredPeer[] = [];
  for (const node of nodes) {
    const name = node.metadata.name;
    const podCIDR = node.spec?.podCIDR;
    if (!name || !podCIDR || !/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/.test(podCIDR)) continue;
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    out.push({ node: name, podCIDR, ...(address ? { address } : {}), port: Number.isSafeInteger(port) && port! > 0 && port! <= 65535 ? port! : 0 });
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Is `ip` (IPv4) inside `cidr` (a node's pod CIDR, any prefix of /8 or longer)? */
export function inPodCidr(ip: string, cidr: string | undefined): boolean {
  const block = parseIpv4Block(cidr);
  return Boolean(block && block.prefix >= 8 && inIpv4Block(ip, cidr));
}

/**
 * Up to this many nodes, every node gets every other as a peer (the agent's desired-state schema
 * takes at most 1,000). Beyond, a node gets the nodes that run a Ready endpoint of a Service
 * (decision 043): sending all of them to all is O(nodes²) bytes on every join.
 */
export const PEERS_TO_EVERY_NODE_MAX = 1_000;

/** The peers whose pod CIDRs hold a Ready endpoint of some Service. */
export function endpointPeers(peers: readonly DesiredPeer[], services: readonly DesiredService[]): DesiredPeer[] {
  const byBlock = new Map<string, DesiredPeer>();
  const prefixes = new Set<number>();
  for (const peer of peers) {
    const block = parseIpv4Block(peer.podCIDR);
    if (!block || block.prefix < 8) continue;
    prefixes.add(block.prefix);
    byBlock.set(`${block.base}/${block.prefix}`, peer);
  }
  const found = new Set<DesiredPeer>();
  for (const service of services) {
    for (const subset of service.endpoints ?? []) {
      for (const ip of subset.ips) {
        if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) continue;
        const n = ipv4ToNumber(ip);
        for (const prefix of prefixes) {
          const size = 2 ** (32 - prefix);
          const peer = byBlock.get(`${n - (n % size)}/${prefix}`);
          if (peer) found.add(peer);
        }
      }
    }
  }
  return peers.filter((p) => found.has(p));
}

/** The peers of `node`: every other node in a cluster of at most PEERS_TO_EVERY_NODE_MAX, else the endpoint nodes. */
export function peersOfNode(all: readonly DesiredPeer[], endpointNodes: () => readonly DesiredPeer[], node: string): DesiredPeer[] {
  const candidates = all.length <= PEERS_TO_EVERY_NODE_MAX ? all : endpointNodes();
  return candidates.filter((p) => p.node !== node).slice(0, PEERS_TO_EVERY_NODE_MAX);
}
