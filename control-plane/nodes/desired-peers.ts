// The peers part of a node's desired state: every other node with a pod CIDR, its InternalIP and
// the port of its tunnel (reported by its agent as Node status.daemonEndpoints.kubeletEndpoint.Port),
// so an agent carries traffic for a pod IP of another node to that node (agent/network/tunnel-*.ts).
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import type { Node } from '../../api/types/node.js';
import { inIpv4Block, parseIpv4Block } from '../../api/pod-addresses.js';

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
