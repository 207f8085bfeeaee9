// Socket addresses as wasi:sockets gives them (ip-socket-address), and the pod's view of them.
import { parseIp } from '../net/name-lookup.js';

export type IpAddressFamily = 'ipv4' | 'ipv6';
export type Ipv4SocketAddress = { port: number; address: [number, number, number, number] };
export type Ipv6SocketAddress = { port: number; flowInfo: number; address: number[]; scopeId: number };
export type IpSocketAddress = { tag: 'ipv4'; val: Ipv4SocketAddress } | { tag: 'ipv6'; val: Ipv6SocketAddress };

/** The unspecified address or loopback: the only addresses a pod's guest has. */
export function isBindable(address: IpSocketAddress): boolean {
  const a = address.val.address;
  if (address.tag === 'ipv4') return a.every((b) => b === 0) || a[0] === 127;
  const zeroPrefix = a.slice(0, 7).every((w) => w === 0);
  if (zeroPrefix && (a[7] === 0 || a[7] === 1)) return true; // :: and ::1
  // ipv4-mapped (::ffff:a.b.c.d) is not allowed on an ipv6 socket by WASI
  return false;
}

export function isUnspecified(address: IpSocketAddress): boolean {
  return address.val.address.every((part) => part === 0);
}

/** The address as text the pod network routes by: dotted ipv4, or ipv6 words. */
export function addressText(address: IpSocketAddress): string {
  if (address.tag === 'ipv4') return address.val.address.join('.');
  return address.val.address.map((word) => word.toString(16)).join(':');
}

export function toSocketAddress(host: string, port: number, family: IpAddressFamily): IpSocketAddress {
  const ip = parseIp(host);
  if (ip?.tag === 'ipv4' && family === 'ipv4') return { tag: 'ipv4', val: { port, address: ip.val } };
  if (ip?.tag === 'ipv6' && family === 'ipv6') return { tag: 'ipv6', val: { port, flowInfo: 0, address: ip.val, scopeId: 0 } };
  return family === 'ipv4' ? { tag: 'ipv4', val: { port, address: [127, 0, 0, 1] } } : { tag: 'ipv6', val: { port, flowInfo: 0, address: [0, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 } };
}

export function withPort(address: IpSocketAddress, port: number): IpSocketAddress {
  return address.tag === 'ipv4'
    ? { tag: 'ipv4', val: { ...address.val, port } }
    : { tag: 'ipv6', val: { ...address.val, port } };
}

