// The cluster's other nodes as this node's pod network sees them (the desired state's `peers`): which
// node runs a pod IP (by the nodes' pod CIDRs), and where its tunnel listens.
import { isIPv4 } from 'node:net';
import type { DesiredPeer } from '../../api/mqtt/messages.js';

interface Range {
  base: number;
  mask: number;
  peer: DesiredPeer;
}

const ipv4 = (ip: string): number => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;

function range(peer: DesiredPeer): Range | undefined {
  const [ip, bits] = peer.podCIDR.split('/') as [string, string];
  const prefix = Number(bits);
  if (!isIPv4(ip) || !Number.isInteger(prefix) || prefix < 8 || prefix > 32) return undefined;
  const mask = prefix === 32 ? 0xffffffff : (~(0xffffffff >>> prefix)) >>> 0;
  return { base: (ipv4(ip) & mask) >>> 0, mask, peer };
}

export class PeerTable {
  #ranges: Range[] = [];

  /** Replaces the table (a new desired state). */
  set(peers: readonly DesiredPeer[]): void {
    this.#ranges = peers.flatMap((p) => range(p) ?? []);
  }

  get peers(): DesiredPeer[] {
    return this.#ranges.map((r) => r.peer);
  }

  /** The node whose pod CIDR holds `ip`, if any. */
  owner(ip: string): DesiredPeer | undefined {
    if (!isIPv4(ip)) return undefined;
    const n = ipv4(ip);
    return this.#ranges.find((r) => ((n & r.mask) >>> 0) === r.base)?.peer;
  }

  byNode(node: string): DesiredPeer | undefined {
    return this.#ranges.find((r) => r.peer.node === node)?.peer;
  }
}
