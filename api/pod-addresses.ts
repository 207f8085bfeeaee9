// Pod networking addresses: each node gets a block of the cluster CIDR (--cluster-cidr, split by
// --node-cidr-mask-size: control-plane/nodes/pod-cidr-allocator.ts), each pod an address in it.
// The node registry gives nodes their CIDR; the scheduler alone gives pods their address (as it binds
// them, or once their node has a CIDR), in this annotation, which the desired publisher hands to the
// agent and the agent reports back as status.podIP.

export const POD_IP_ANNOTATION = 'skiff.dev/pod-ip';

/** The default cluster pod network and node block size (as k3s and kube-controller-manager). */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

/** Smallest node block a pod CIDR may be: a /30 still has host addresses after .0 and .1. */
export const MAX_NODE_CIDR_MASK_SIZE = 30;

export interface Ipv4Block {
  /** The first address, as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export const ipv4ToNumber = (ip: string): number => ip.split('.').reduce((n, part) => (n * 256) + Number(part), 0);
export const numberToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** `a.b.c.d/p` (IPv4, each part 0-255, prefix 0-32), with the host bits cleared; else undefined. */
export function parseIpv4Block(text: string | undefined): Ipv4Block | undefined {
  if (typeof text !== 'string' || text.length > 18) return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (parts.some((p) => p > 255) || prefix > 32) return undefined;
  const value = parts.reduce((n, p) => n * 256 + p, 0);
  const size = 2 ** (32 - prefix);
  return { base: value - (value % size), prefix };
}

/** Is `ip` (IPv4) inside `cidr` (any prefix length)? */
export function inIpv4Block(ip: string, cidr: string | undefined): boolean {
  const block = parseIpv4Block(cidr);
  if (!block || typeof ip !== 'string' || !/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) return false;
  const parts = ip.split('.').map(Number);
  if (parts.some((p) => p > 255)) return false;
  const n = ipv4ToNumber(ip);
  return n >= block.base && n < block.base + 2 ** (32 - block.prefix);
}
