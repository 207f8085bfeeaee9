// httpGet and tcpSocket probe attempts against the pod's virtual network (pod-network.ts), with the
// kubelet's rules and messages. Nothing goes on the wire: an httpGet probe calls the HTTP-handler
// container listening on the port in-process (an HTTPS probe passes the scheme, no TLS is needed);
// a tcpSocket probe succeeds iff something in the pod listens on the port.
import { isIPv6 } from 'node:net';
import type { ContainerPort } from '../../api/types/pod.js';
import type { HttpRequest } from '../../runtime/pod-runtime.js';
import { KUBELET_VERSION } from '../node-info.js';
import type { PodNetwork } from './pod-network.js';
import type { HttpGetAction, ProbeAttempt, ProbeOutcome, TcpSocketAction } from './prober.js';

export interface NetworkProbeContext {
  network: PodNetwork;
  /** The probed container: named ports resolve against its `ports`. */
  container: { name: string; ports?: ContainerPort[] };
  timeoutSeconds: number;
}

/** An attempt and what the prober reports when it outlives timeoutSeconds. */
export interface NetworkProbe {
  attempt: ProbeAttempt;
  timeoutMessage: string;
}

/** `kube-probe/<major>.<minor>`, the kubelet's probe User-Agent. */
export const PROBE_USER_AGENT = `kube-probe/${KUBELET_VERSION.replace(/^v(\d+)\.(\d+).*$/, '$1.$2')}`;

/** Hosts that name the pod itself (besides its pod IP). */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function httpGetProbe(action: HttpGetAction, ctx: NetworkProbeContext): NetworkProbe {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || ctx.network.host;
  const path = !action.path ? '/' : action.path.startsWith('/') ? action.path : `/${action.path}`;
  const port = resolvePort(action.port, ctx.container);
  const url = typeof port === 'number' ? `${scheme}://${joinHostPort(host, port)}${path}` : '';
  const get = (detail: string) => `Get "${url}": ${detail}`;
  const attempt: ProbeAttempt = async () => {
    if (typeof port !== 'number') return port;
    if (scheme !== 'http' && scheme !== 'https') return { ok: false, errored: true, message: `unsupported scheme: ${JSON.stringify(action.scheme)}` };
    const outside = outsideHost(host, ctx.network);
    if (outside) return { ok: false, message: get(outside) };
    const holder = ctx.network.holder(port);
    if (!holder) return { ok: false, message: get(`dial tcp ${joinHostPort(host, port)}: connect: connection refused`) };
    if (holder.kind !== 'http') {
      return { ok: false, message: get(`port ${port} is a raw TCP listener of container ${holder.container}: skiff sends HTTP only to wasi:http handler containers (no HTTP data path to guest sockets yet)`) };
    }
    const request = buildRequest(action, scheme, joinHostPort(host, port), path);
    const response = await holder.handle(request, ctx.timeoutSeconds * 1000).catch((error: unknown) => error as Error);
    if (response instanceof Error) return { ok: false, message: get(response.message) };
    if (response.status >= 200 && response.status < 400) return { ok: true };
    return { ok: false, message: `HTTP probe failed with statuscode: ${response.status}` };
  };
  return { attempt, timeoutMessage: get('context deadline exceeded (Client.Timeout exceeded while awaiting headers)') };
}

export function tcpSocketProbe(action: TcpSocketAction, ctx: NetworkProbeContext): NetworkProbe {
  const host = action.host || ctx.network.host;
  const port = resolvePort(action.port, ctx.container);
  const dial = typeof port === 'number' ? `dial tcp ${joinHostPort(host, port)}` : '';
  const attempt: ProbeAttempt = async () => {
    if (typeof port !== 'number') return port;
    const outside = outsideHost(host, ctx.network);
    if (outside) return { ok: false, message: `${dial}: ${outside}` };
    if (ctx.network.holder(port)) return { ok: true };
    return { ok: false, message: `${dial}: connect: connection refused` };
  };
  return { attempt, timeoutMessage: `${dial}: i/o timeout` };
}

/** The kubelet's request: its default User-Agent and Accept, the probe's headers, Host as authority. */
function buildRequest(action: HttpGetAction, scheme: string, hostPort: string, path: string): HttpRequest {
  const headers: Array<[string, string]> = [];
  let authority = hostPort;
  for (const { name, value } of action.httpHeaders ?? []) {
    if (!name) continue;
    if (name.toLowerCase() === 'host') authority = value ?? '';
    else headers.push([name.toLowerCase(), value ?? '']);
  }
  const has = (name: string) => headers.some(([n]) => n === name);
  if (!has('user-agent')) headers.push(['user-agent', PROBE_USER_AGENT]);
  if (!has('accept')) headers.push(['accept', '*/*']);
  // an explicitly empty Accept removes the header (as the kubelet does)
  const kept = headers.filter(([n, v]) => n !== 'accept' || v !== '');
  return { method: 'GET', pathWithQuery: path, scheme: scheme === 'https' ? 'https' : 'http', authority, headers: kept, body: new Uint8Array() };
}

/** A port number, or a named containerPort of the probed container; an errored outcome otherwise. */
export function resolvePort(port: number | string | undefined, container: NetworkProbeContext['container']): number | Extract<ProbeOutcome, { ok: false }> {
  if (typeof port === 'number') {
    if (Number.isInteger(port) && port >= 1 && port <= 65535) return port;
    return { ok: false, errored: true, message: `invalid port number: ${port}` };
  }
  if (typeof port === 'string' && port !== '') {
    const found = container.ports?.find((p) => p.name === port);
    if (found) return found.containerPort;
    return { ok: false, errored: true, message: `port ${port} not found` };
  }
  return { ok: false, errored: true, message: 'probe has no port' };
}

/** Why `host` cannot be reached from the pod's network, if it cannot. */
function outsideHost(host: string, network: PodNetwork): string | undefined {
  if (host === network.host || LOCAL_HOSTS.has(host)) return undefined;
  return `host ${host} is not this pod: skiff probes reach only the pod's own network (its IP is ${network.host})`;
}

function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
