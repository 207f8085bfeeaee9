// What goes over a tunnel between two agents (tunnel-server.ts, tunnel-client.ts): one HTTPS request
// per pod request, mutual TLS with node certificates (CN system:node:NAME, the cluster CA). The
// guest's request keeps its method, path and query, headers and body; these headers say where it goes:
//   x-skiff-tunnel-target: POD_IP:PORT     the pod port on the receiving node
//   x-skiff-tunnel-authority / -scheme     the authority and scheme the guest used
//   x-skiff-tunnel-timeout-ms              the guest's timeout
//   x-skiff-tunnel-source: POD_IP          the calling pod (for ingress NetworkPolicies; trusted only
//                                          when it is in the calling node's pod CIDR)
// The answer is the pod's response as it is; an error of the receiving node has the status below
// and `x-skiff-tunnel-error: <wasi:http error-code>` with the message as body.
import type { PodNetworkErrorCode } from '../../runtime/pod-runtime.js';

export { TUNNEL_HEADER_PREFIX, TUNNEL_HEADERS, MAX_TUNNEL_TIMEOUT_MS } from '../../api/tunnel-headers.js';
import { TUNNEL_HEADER_PREFIX } from '../../api/tunnel-headers.js';

/** The agent's default tunnel port (the kubelet's: skiff's tunnel is its node-to-node HTTPS endpoint). */
export const DEFAULT_TUNNEL_PORT = 10250;
/** Largest request or response body carried (bytes), as a pod's outgoing request is bounded. */
export const MAX_TUNNEL_BODY_BYTES = 16 * 1024 * 1024;

/** Headers that belong to one hop, never carried. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length', 'http2-settings']);

export const carriedHeader = (name: string): boolean => !HOP_BY_HOP.has(name) && !name.startsWith(TUNNEL_HEADER_PREFIX);

/** Raw node:http headers (name, value, name, value...) as lower-cased pairs, minus what is not carried. */
export function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (carriedHeader(name)) out.push([name, raw[i + 1]!]);
  }
  return out;
}

const ERROR_CODES = new Set<PodNetworkErrorCode>([
  'DNS-error', 'destination-not-found', 'destination-unavailable', 'destination-IP-prohibited', 'destination-IP-unroutable',
  'connection-refused', 'connection-terminated', 'connection-limit-reached', 'HTTP-request-denied', 'HTTP-request-URI-invalid',
  'HTTP-request-body-size', 'HTTP-response-incomplete', 'HTTP-response-timeout', 'loop-detected', 'internal-error',
]);

export const isErrorCode = (code: unknown): code is PodNetworkErrorCode => typeof code === 'string' && ERROR_CODES.has(code as PodNetworkErrorCode);

/** `IP:PORT` of a pod port (IPv4), or undefined. */
export function parseTarget(text: string | undefined): { ip: string; port: number } | undefined {
  const m = text ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text) : null;
  if (!m) return undefined;
  const port = Number(m[2]);
  if (m[1]!.split('.').some((p) => Number(p) > 255) || port < 1 || port > 65535) return undefined;
  return { ip: m[1]!, port };
}

/** Pairs as a node:http headers object (repeated names as arrays), minus what is not carried. */
export function headerObject(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [raw, value] of pairs) {
    const name = raw.toLowerCase();
    if (!carriedHeader(name)) continue;
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}
