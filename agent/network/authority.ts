// What a guest's outgoing request names: the host and port of its authority (`host[:port]`,
// `[v6]:port`), checked strictly (a hostile authority is refused, never guessed at).
import { isIPv4, isIPv6 } from 'node:net';

export interface Destination {
  /** Lower-case name without a trailing dot, or an IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  kind: 'ipv4' | 'ipv6' | 'name';
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The destination of `authority`, or undefined when it is not a valid host[:port]. */
export function parseAuthority(authority: string, scheme: 'http' | 'https'): Destination | undefined {
  if (authority.length === 0 || authority.length > 300 || authority.includes('@')) return undefined;
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return undefined;
    host = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
    if (!isIPv6(host)) return undefined;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  const port = portText === undefined ? (scheme === 'https' ? 443 : 80) : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (isIPv6(host)) return { host: host.toLowerCase(), port, kind: 'ipv6' };
  if (isIPv4(host)) return { host, port, kind: 'ipv4' };
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) return undefined;
  return { host: name, port, kind: 'name' };
}

/** The pod's own loopback: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(destination: Destination): boolean {
  if (destination.kind === 'ipv4') return destination.host.startsWith('127.');
  if (destination.kind === 'ipv6') return destination.host === '::1';
  return destination.host === 'localhost' || destination.host.endsWith('.localhost');
}
