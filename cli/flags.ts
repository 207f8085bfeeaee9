// Parsers for command-line values shared by the subcommands.
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { parseBytes } from '../api/quantity.js';
import { parseCidr } from '../api/cidr.js';
import { MAX_NODE_CIDR_MASK_SIZE, numberToIpv4, parseIpv4Block } from '../api/pod-addresses.js';

/** A CIDR for --allow-egress (repeatable: collected into `all`). */
export function parseEgressCidr(value: string, all: string[]): string[] {
  if (!parseCidr(value)) throw new InvalidArgumentError('must be a CIDR, e.g. 203.0.113.0/24, 127.0.0.1/32 or 2001:db8::/32');
  return [...all, value];
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a whole number from 0 to 100');
  return n;
}

/** `k=v,k2=v2` -> a label map (keys and values as Kubernetes allows them). */
export function parseLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of value.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const val = eq < 0 ? '' : pair.slice(eq + 1);
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key) || key.length > 316) {
      throw new InvalidArgumentError(`invalid label key "${key}"`);
    }
    if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(val) || val.length > 63) throw new InvalidArgumentError(`invalid label value "${val}"`);
    labels[key] = val;
  }
  return labels;
}

export function parseMqttUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL like mqtt://HOST:PORT');
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new InvalidArgumentError('must use mqtt:// or mqtts://');
  return value;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of seconds');
  return n;
}

/** A memory size as Kubernetes writes it (64Mi, 1Gi, 1048576), at least one 64 KiB Wasm page. */
export function parseMemorySize(value: string): number {
  let bytes: number;
  try {
    bytes = parseBytes(value);
  } catch {
    throw new InvalidArgumentError('must be a size like 64Mi, 1Gi or 1048576');
  }
  if (!Number.isFinite(bytes) || bytes < 65_536) throw new InvalidArgumentError('must be at least 64Ki (one WebAssembly page)');
  return bytes;
}

/** `--mesh`: auto, direct or relay. */
export function parseMeshMode(value: string): 'auto' | 'direct' | 'relay' {
  if (value !== 'auto' && value !== 'direct' && value !== 'relay') throw new InvalidArgumentError('must be auto, direct or relay');
  return value;
}

/** An IPv4 or IPv6 address (no name: the agent binds it and reports it as the node's InternalIP). */
export function parseIp(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('must be an IPv4 or IPv6 address');
  return value;
}

/** An IPv4 CIDR of /8 or longer, written with its host bits clear (--cluster-cidr). */
export function parseIpv4Cidr(value: string): string {
  const block = parseIpv4Block(value);
  if (!block || block.prefix < 8) throw new InvalidArgumentError('must be an IPv4 CIDR of /8 or longer, e.g. 10.42.0.0/16');
  const canonical = `${numberToIpv4(block.base)}/${block.prefix}`;
  if (canonical !== value) throw new InvalidArgumentError(`has host bits set: did you mean ${canonical}?`);
  return value;
}

/** A prefix length for node pod CIDRs (--node-cidr-mask-size). */
export function parseMaskSize(value: string): number {
  const n = Number(value);
  if (!/^\d{1,2}$/.test(value) || n < 8 || n > MAX_NODE_CIDR_MASK_SIZE) throw new InvalidArgumentError(`must be a prefix length from 8 to ${MAX_NODE_CIDR_MASK_SIZE}`);
  return n;
}
