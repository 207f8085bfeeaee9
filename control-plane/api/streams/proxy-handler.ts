// pods/proxy and services/proxy (`kubectl proxy`, `kubectl get --raw .../pods/web:8080/proxy/`):
// any method on /api/v1/namespaces/NS/{pods,services}/NAME[:PORT]/proxy[/PATH] is sent on as an
// HTTP/1.1 request to the pod's port over the same byte stream port-forward uses (node:http's
// client on a Duplex), and the pod's answer comes back as it is. The caller's credentials and
// hop-by-hop headers stay here.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';
import type { Context } from 'hono';
import { BadRequestError, ServiceUnavailableError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import type { Endpoints, Service } from '../../resources/kinds/services.js';
import { resourceTypes } from '../../resources/resource-types.js';
import type { ApiDeps } from '../api-deps.js';
import { readBodyBytes } from '../request-body.js';
import { upgradeContext } from '../upgrade-requests.js';
import type { PodExecSource } from './exec-session.js';
import { parseProxyName, podProxyPort, serviceProxyTarget } from './proxy-target.js';

/** Largest request body sent on to a pod. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** How long a proxied request may take to answer (headers). */
const PROXY_TIMEOUT_MS = 60_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'host', 'authorization', 'proxy-authorization']);

export interface ProxyPath {
  kind: 'pods' | 'services';
  namespace: string;
  /** `[scheme:]name[:port]` as it came. */
  target: string;
  /** Path and query for the pod, starting with `/`. */
  pathWithQuery: string;
}

/**
 * Recognises .../namespaces/NS/{pods,services}/NAME/proxy[/...] among the decoded segments;
 * `rawPath` is the request's path as sent (still encoded), `search` its query.
 */
export function proxyPathOf(segments: readonly string[], rawPath: string, search: string): ProxyPath | undefined {
  const [api, version, namespaces, namespace, kind, target, proxy] = segments;
  if (api !== 'api' || version !== 'v1' || namespaces !== 'namespaces' || proxy !== 'proxy' || !namespace || !target) return undefined;
  if (kind !== 'pods' && kind !== 'services') return undefined;
  // what follows `/proxy` in the raw path, the trailing slash kept
  const rest = rawPath.split('/').filter((s) => s !== '').slice(7).join('/');
  const trailing = rawPath.endsWith('/') && rest !== '' ? '/' : '';
  const path = rest === '' ? '/' : `/${rest}${trailing}`;
  return { kind, namespace, target, pathWithQuery: `${path}${search}` };
}

export async function proxyToPod(c: Context, deps: ApiDeps, p: ProxyPath): Promise<Response> {
  if (upgradeContext(c)) throw new BadRequestError('proxy does not carry upgrades (WebSocket) to pods yet');
  const source = deps.exec?.();
  if (!source) throw new ServiceUnavailableError('proxy is not available yet: the node channel is starting');
  let pod: Pod;
  let port: number;
  if (p.kind === 'pods') {
    const name = parseProxyName(p.target, false);
    pod = await deps.resources.get<Pod>(resourceTypes.pods, p.namespace, name.name);
    port = podProxyPort(pod, name.port);
  } else {
    const name = parseProxyName(p.target, true);
    const service = await deps.resources.get<Service>(resourceTypes.services, p.namespace, name.name);
    const endpoints = await deps.resources.get<Endpoints>(resourceTypes.endpoints, p.namespace, name.name).catch(() => undefined);
    const target = serviceProxyTarget(service, endpoints, name.port);
    pod = await deps.resources.get<Pod>(resourceTypes.pods, p.namespace, target.pod);
    port = target.port;
  }
  if (pod.status?.phase !== 'Running') throw new BadRequestError(`pod ${pod.metadata.name} is not running (${pod.status?.phase ?? 'Pending'})`);
  const body = ['GET', 'HEAD'].includes(c.req.method) ? undefined : Buffer.from(await readBodyBytes(c, MAX_BODY_BYTES));
  return forward(source, pod, port, c.req.method, p.pathWithQuery, forwardedHeaders(c.req.raw.headers, `${pod.metadata.name}:${port}`), body);
}

function forward(source: PodExecSource, pod: Pod, port: number, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Response> {
  const abort = new AbortController();
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest({
      method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}), connection: 'close' },
      createConnection: () => podConnection(source, pod, port, abort.signal) as never,
      timeout: PROXY_TIMEOUT_MS,
    }, (res) => {
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers as IncomingHttpHeaders)) {
        if (value === undefined || HOP_BY_HOP.has(name)) continue;
        for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
      }
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          res.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
          res.on('end', () => { controller.close(); abort.abort(); });
          res.on('error', (error) => { controller.error(error); abort.abort(); });
        },
        cancel() { res.destroy(); abort.abort(); },
      });
      resolve(new Response(method === 'HEAD' || [204, 304].includes(res.statusCode ?? 0) ? null : stream, { status: res.statusCode ?? 502, headers: out }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROXY_TIMEOUT_MS} ms`)));
    req.on('error', (error) => {
      abort.abort();
      reject(new ServiceUnavailableError(`error trying to reach pod ${pod.metadata.name} on port ${port}: ${error.message}`));
    });
    req.end(body);
  });
}

/** A byte stream to the pod's port as a Duplex (what node:http's client writes on and reads from). */
export function podConnection(source: PodExecSource, pod: Pod, port: number, signal: AbortSignal): Duplex {
  let relay: ((bytes: Buffer | null) => void) | undefined;
  const early: Array<Buffer | null> = [];
  const send = (bytes: Buffer | null) => (relay ? relay(bytes) : early.push(bytes));
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      send(Buffer.from(chunk));
      done();
    },
    final(done) {
      send(null);
      done();
    },
  });
  source.portForward(pod, port, {
    input: (write) => {
      relay = write;
      for (const bytes of early.splice(0)) write(bytes);
    },
    write: (bytes) => duplex.push(bytes),
    signal,
  }).then(() => duplex.push(null), (error: Error) => duplex.destroy(error));
  return duplex;
}

function forwardedHeaders(headers: Headers, host: string): Record<string, string> {
  const out: Record<string, string> = { host };
  headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) out[name] = value;
  });
  return out;
}
