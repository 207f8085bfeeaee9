// IP addresses and CIDR blocks (NetworkPolicy ipBlock, the agent's --allow-egress), parsed strictly:
// a text that is no canonical-enough address or block is refused, never guessed at.
import { isIPv4, isIPv6 } from 'node:net';

export interface IPAddress {
  family: 4 | 6;
  /** The address as a number (32 or 128 bits). */
  value: bigint;
}

export interface Cidr extends IPAddress {
  /** The prefix length: 0..32 or 0..128. */
  prefix: number;
}

function v4(text: string): bigint {
  return text.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function v6(text: string): bigint {
  let head = text;
  let tail = '';
  // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4(dotted[1]!);
    head = text.slice(0, -dotted[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const gap = head.indexOf('::');
  if (gap >= 0) {
    tail = head.slice(gap + 2);
    head = head.slice(0, gap);
  }
  const first = head ? head.split(':') : [];
  const last = tail ? tail.split(':') : [];
  const groups = gap >= 0 ? [...first, ...Array<string>(8 - first.length - last.length).fill('0'), ...last] : first;
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An IPv4 or IPv6 address (IPv6 without brackets or zone), or undefined. */
export function parseIP(text: string): IPAddress | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  if (isIPv4(text)) return { family: 4, value: v4(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: v6(text) };
  return undefined;
}

/** `address/prefix`, or undefined. Host bits may be set (as Kubernetes accepts them): they are ignored. */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const slash = text.indexOf('/');
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  const address = parseIP(text.slice(0, slash));
  const prefix = Number(text.slice(slash + 1));
  if (!address || prefix > (address.family === 4 ? 32 : 128)) return undefined;
  return { ...address, prefix };
}

/** Whether `cidr` contains `ip` (of the same family). */
export function cidrContains(cidr: Cidr, ip: IPAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const bits = BigInt(cidr.family === 4 ? 32 : 128);
  const shift = bits - BigInt(cidr.prefix);
  return (cidr.value >> shift) === (ip.value >> shift);
}

/** The default pod network (--cluster-cidr; control-plane/nodes/pod-cidr-allocator.ts gives each node a block). */
export const CLUSTER_POD_CIDR = '10.42.0.0/16';
