// skiff's Ingress gateway in the control plane: HTTP on --ingress-port and HTTPS on
// --ingress-tls-port (the certificate chosen by SNI from the Ingresses' TLS Secrets, a
// self-signed one otherwise). Each request is routed by the IngressTable (api/ingress/ingress-router.ts) to a
// Service port, then to one of its Ready endpoints (round robin): straight to the tunnel of the node
// that runs it, over kept-alive HTTPS connections with the gateway's own certificate (decision 040,
// ingress-tunnel.ts), else (no tunnel, node unreachable, a raw TCP listener) through the same path
// the API server's services/proxy takes: a port-forward byte stream to the pod over the node
// channel (node:http's client on it). A request refused before the pod saw it goes to the next
// endpoint.
// Answers of the gateway itself: 404 (no rule), 503 (no Service, port or Ready endpoint),
// 502 (the pod could not be reached), 413 (body over 8 MiB), 504 (no answer in time).
import { request as httpRequest, ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type { Http2ServerRequest } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { podConnection } from '../api/streams/proxy-handler.js';
import type { PodExecSource } from '../api/streams/exec-session.js';
import type { Secret } from '../resources/kinds/config.js';
import type { Endpoints, Service } from '../resources/kinds/services.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';
import type { SharedInformers } from '../reconcile/shared-informers.js';
import { resourceTypes } from '../resources/resource-types.js';
import { IngressTable, type BackendRef } from '../../api/ingress/ingress-router.js';
import { carryUpgradeOver, upgradeHead, upgradeWanted } from './ingress-upgrade.js';
import { carryWebSocketOverH2, websocketHead, websocketOverH2 } from './ingress-h2-websocket.js';
import { GatewayTunnelError, IngressTunnel, type TunnelCertificate, type TunnelTarget } from './ingress-tunnel.js';
import { plainListener, tlsListener, writeRawHead, type GatewayListener, type GatewayRequest, type GatewayResponse } from './ingress-servers.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const TIMEOUT_MS = 60_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

export interface IngressGatewayOptions {
  resources: ResourceStore;
  /** The node channel's port-forward (absent while it starts: 503). */
  source: () => PodExecSource | undefined;
  host: string;
  port: number;
  tlsPort?: number;
  /** The certificate for names no Ingress has TLS for. */
  defaultCert: { cert: string; key: string };
  logger: Logger;
  /** The gateway's client certificate for the agents' tunnels; absent: port-forward streams only. */
  tunnelCertificate?: () => Promise<TunnelCertificate>;
  clock: Clock;
  /** Services, Endpoints, Pods and Nodes are read from these caches (else from the store, per request). */
  informers?: SharedInformers;
}

interface Endpoint {
  pod: Pod;
  port: number;
  /** The pod's node's tunnel, when it has one. */
  tunnel?: TunnelTarget;
}

class GatewayAnswer extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class IngressGateway {
  #table = new IngressTable([]);
  readonly #next = new Map<string, number>();
  readonly #contexts = new Map<string, SecureContext>();
  readonly #listeners: GatewayListener[] = [];
  /** Where each server listens (port 0 resolved). */
  readonly addresses: { http?: AddressInfo; https?: AddressInfo } = {};

  readonly #tunnel: IngressTunnel | undefined;
  /** Requests answered through a node's tunnel, upgrades carried over it, and both through port-forward streams. */
  readonly carried = { tunnel: 0, tunnelUpgrades: 0, stream: 0 };

  constructor(private readonly options: IngressGatewayOptions) {
    this.#tunnel = options.tunnelCertificate ? new IngressTunnel({ certificate: options.tunnelCertificate, clock: options.clock }) : undefined;
  }

  setTable(table: IngressTable): void {
    this.#table = table;
  }

  async start(): Promise<void> {
    const handler = (scheme: 'http' | 'https') => (req: GatewayRequest, res: GatewayResponse) => void this.#serve(scheme, req, res);
    const upgrade = (scheme: 'http' | 'https') => (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(scheme, req, socket, head);
    const plain = await plainListener(this.options.host, this.options.port, handler('http'), upgrade('http'));
    this.#listeners.push(plain);
    this.addresses.http = plain.address;
    if (this.options.tlsPort !== undefined) {
      const tls = await tlsListener(this.options.host, this.options.tlsPort, {
        cert: this.options.defaultCert.cert, key: this.options.defaultCert.key,
        SNICallback: (name, done) => void this.#contextFor(name).then((ctx) => done(null, ctx), () => done(null, undefined)),
      }, handler('https'), upgrade('https'));
      this.#listeners.push(tls);
      this.addresses.https = tls.address;
    }
  }

  async stop(): Promise<void> {
    this.#tunnel?.close();
    await Promise.all(this.#listeners.map((l) => l.close()));
  }

  /** The SNI certificate: the TLS Secret of the Ingress covering `name` (undefined: the default one). */
  async #contextFor(name: string): Promise<SecureContext | undefined> {
    const ref = this.#table.tlsFor(name);
    if (!ref) return undefined;
    const secret = await this.options.resources.get<Secret>(resourceTypes.secrets, ref.namespace, ref.secretName);
    const key = `${ref.namespace}/${ref.secretName}@${secret.metadata.resourceVersion}`;
    let ctx = this.#contexts.get(key);
    if (!ctx) {
      const data = secret.data ?? {};
      const pem = (field: string) => Buffer.from(data[field] ?? '', 'base64').toString('utf8');
      ctx = createSecureContext({ cert: pem('tls.crt'), key: pem('tls.key') });
      if (this.#contexts.size > 256) this.#contexts.clear();
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }

  async #serve(scheme: 'http' | 'https', req: GatewayRequest, res: GatewayResponse): Promise<void> {
    res.on('error', () => undefined);
    try {
      if (req.method === 'CONNECT') {
        if (!websocketOverH2(req)) throw new GatewayAnswer(405, 'CONNECT is not served');
        return await this.#websocket(scheme, req as Http2ServerRequest);
      }
      if (!req.url?.startsWith('/')) throw new GatewayAnswer(400, 'the path must start with /');
      const route = this.#table.match(authorityOf(req), req.url);
      if (!route) throw new GatewayAnswer(404, 'default backend - 404');
      const body = await readBody(req);
      const endpoints = await this.#endpoints(route);
      const headers = forwardedHeaders(req, scheme);
      await this.#inTurn(route, endpoints, 'the request', () => true, (target) => this.#try(target, req.method ?? 'GET', req.url ?? '/', headers, body, res));
    } catch (error) {
      const status = error instanceof GatewayAnswer || error instanceof GatewayTunnelError ? error.status : 502;
      const text = `${(error as Error).message.split('\n')[0]}\n`;
      if (res.headersSent) return void res.destroy();
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    }
  }

  /** An HTTP Upgrade (WebSocket...): carried as bytes to a Ready endpoint (ingress-upgrade.ts); h2c offers are answered as HTTP/1.1. */
  async #upgrade(scheme: 'http' | 'https', req: IncomingMessage, socket: Duplex, early: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    if (/^\s*h2c\s*$/i.test(req.headers.upgrade ?? '') && early.length === 0) {
      // an h2c offer (curl --http2): declined, the request is served as HTTP/1.1 (RFC 7540 3.2)
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.on('finish', () => socket.end());
      return this.#serve(scheme, req, res);
    }
    try {
      if (!upgradeWanted(req)) throw new GatewayAnswer(400, 'malformed Upgrade request');
      const route = this.#table.match(req.headers.host, req.url ?? '/');
      if (!route) throw new GatewayAnswer(404, 'default backend - 404');
      const endpoints = await this.#endpoints(route);
      const head = upgradeHead(req, forwardedHeaders(req, scheme));
      if (!head) throw new GatewayAnswer(431, 'request header fields too large');
      await this.#inTurn(route, endpoints, 'the upgrade', () => !socket.destroyed,
        (target) => this.#tryUpgrade(target, (upstream, release) => carryUpgradeOver(upstream, release, head, socket, early)));
    } catch (error) {
      const status = error instanceof GatewayAnswer ? error.status : 502;
      const text = `${(error as Error).message.split('\n')[0]}\n`;
      if (socket.destroyed) return;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    }
  }

  /** A WebSocket over HTTP/2 (RFC 8441): routed as a GET of its path, the handshake to the pod as HTTP/1.1 (ingress-h2-websocket.ts). */
  async #websocket(scheme: 'http' | 'https', req: Http2ServerRequest): Promise<void> {
    const path = req.url ?? '';
    // as an HTTP/1.1 request line carries it: visible ASCII only
    if (!/^\/[\x21-\x7e]*$/.test(path)) throw new GatewayAnswer(400, 'the path must start with / and be visible ASCII');
    const route = this.#table.match(authorityOf(req), path);
    if (!route) throw new GatewayAnswer(404, 'default backend - 404');
    const endpoints = await this.#endpoints(route);
    const handshake = websocketHead(path, forwardedHeaders(req, scheme));
    if (!handshake) throw new GatewayAnswer(431, 'request header fields too large or not allowed');
    await this.#inTurn(route, endpoints, 'the WebSocket', () => !req.stream.destroyed,
      (target) => this.#tryUpgrade(target, (upstream, release) => carryWebSocketOverH2(upstream, release, handshake, req.stream)));
  }

  /**
   * Tries the endpoints round robin from the route's next one while `alive`, until one carried it;
   * one that refused before carrying anything passes it on to the next. 502 when none took it.
   */
  async #inTurn(route: BackendRef, endpoints: Endpoint[], what: string, alive: () => boolean, one: (target: Endpoint) => Promise<'done' | string>): Promise<void> {
    const start = this.#next.get(route.ingress + route.service) ?? 0;
    this.#next.set(route.ingress + route.service, (start + 1) % 1_000_000);
    let lastError = '';
    for (let i = 0; i < endpoints.length && alive(); i++) {
      const outcome = await one(endpoints[(start + i) % endpoints.length]!);
      if (outcome === 'done') return;
      lastError = outcome;
    }
    throw new GatewayAnswer(502, `no endpoint of service ${route.namespace}/${route.service} took ${what}: ${lastError}`);
  }

  /** One endpoint of an upgrade: over its node's tunnel when it has one (as from outside), else a port-forward stream. */
  async #tryUpgrade(target: Endpoint, carry: (upstream: Duplex, release: () => void) => Promise<'done' | string>): Promise<'done' | string> {
    if (target.tunnel && this.#tunnel) {
      const opened = await this.#tunnel.openStream(target.tunnel);
      if (opened instanceof Duplex) {
        const outcome = await carry(opened, () => undefined);
        if (outcome === 'done') this.carried.tunnelUpgrades++;
        return outcome;
      }
      if ('refused' in opened) return opened.refused;
      this.options.logger.debug({ pod: target.pod.metadata.name, opened }, 'ingress: upgrade through a port-forward stream instead of the tunnel');
    }
    const source = this.options.source();
    if (!source) throw new GatewayAnswer(503, 'the node channel is starting');
    const abort = new AbortController();
    const outcome = await carry(podConnection(source, target.pod, target.port, abort.signal), () => abort.abort());
    if (outcome === 'done') this.carried.stream++;
    return outcome;
  }

  /** The Ready endpoints (pod and target port) behind the route's Service port. */
  async #endpoints(route: BackendRef): Promise<Endpoint[]> {
        const key = `${route.namespace}/${route.service}`;
    const service = await this.#get<Service>(resourceTypes.services, route.namespace, route.service);
    if (!service) throw new GatewayAnswer(503, `service ${key} not found`);
    const servicePort = (service.spec.ports ?? []).find((p) => (route.port.number !== undefined ? p.port === route.port.number : p.name === route.port.name));
    if (!servicePort) throw new GatewayAnswer(503, `service ${key} has no port ${route.port.number ?? route.port.name}`);
    const endpoints = await this.#get<Endpoints>(resourceTypes.endpoints, route.namespace, route.service);
    const out: Endpoint[] = [];
    for (const subset of endpoints?.subsets ?? []) {
      const target = (subset.ports ?? []).find((p) => (p.name ?? '') === (servicePort.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
      if (!target) continue;
      for (const address of subset.addresses ?? []) {
        if (address.targetRef?.kind !== 'Pod' || !address.targetRef.name) continue;
        const pod = await this.#get<Pod>(resourceTypes.pods, route.namespace, address.targetRef.name);
        if (pod && !pod.metadata.deletionTimestamp) out.push({ pod, port: target.port, ...(await this.#tunnelTarget(pod, target.port)) });
      }
    }
    if (out.length === 0) throw new GatewayAnswer(503, `service ${key} has no ready endpoints`);
    return out;
  }

  /** An object from the shared informers' caches (as kube-proxy reads its informers), else the store. */
  async #get<T extends { metadata: object }>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    const informers = this.options.informers;
    if (!informers) return this.options.resources.get<T & Parameters<ResourceStore['create']>[1]>(type, namespace, name).catch(() => undefined);
    const informer = informers.for<T & Parameters<ResourceStore['create']>[1]>(type);
    await informer.synced();
    return informer.get(namespace, name);
  }

  /** The tunnel of the pod's node (InternalIP, daemonEndpoints port), when the gateway may use it now. */
  async #tunnelTarget(pod: Pod, port: number): Promise<{ tunnel?: TunnelTarget }> {
    const nodeName = pod.spec.nodeName;
    const podIP = pod.status?.podIP;
    if (!this.#tunnel || !nodeName || !podIP || !this.#tunnel.usable(nodeName)) return {};
    const node = await this.#get<Node>(resourceTypes.nodes, undefined, nodeName);
    const address = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const tunnelPort = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !tunnelPort || !Number.isSafeInteger(tunnelPort) || tunnelPort > 65535) return {};
    return { tunnel: { node: nodeName, address, port: tunnelPort, podIP, podPort: port } };
  }

  /** One endpoint: through its node's tunnel when it has one, else (or for a raw TCP listener, or an unreachable node) a port-forward stream. */
  async #try(target: Endpoint, method: string, path: string, headers: Record<string, string>, body: Buffer, res: GatewayResponse): Promise<'done' | string> {
    if (target.tunnel && this.#tunnel) {
      const outcome = await this.#tunnel.forward(target.tunnel, method, path, headers, body, res, TIMEOUT_MS);
      if (outcome === 'done') {
        this.carried.tunnel++;
        return 'done';
      }
      if ('refused' in outcome && !outcome.rawListener) return outcome.refused;
      this.options.logger.debug({ pod: target.pod.metadata.name, outcome }, 'ingress: through a port-forward stream instead of the tunnel');
    }
    const outcome = await this.#forward(target.pod, target.port, method, path, headers, body, res);
    if (outcome === 'done') this.carried.stream++;
    return outcome;
  }

  /** One try: 'done' once an answer went out, else why the pod's port refused before any byte came back. */
  #forward(pod: Pod, port: number, method: string, path: string, headers: Record<string, string>, body: Buffer, res: GatewayResponse): Promise<'done' | string> {
    const source = this.options.source();
    if (!source) return Promise.reject(new GatewayAnswer(503, 'the node channel is starting'));
    const abort = new AbortController();
    return new Promise((resolve, reject) => {
      let answered = false;
      const upstream = httpRequest({
        method, path, headers: { ...headers, 'content-length': String(body.length), connection: 'close' },
        createConnection: () => podConnection(source, pod, port, abort.signal) as never,
        timeout: TIMEOUT_MS,
      }, (answer) => {
        answered = true;
        const out: string[] = [];
        for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
          if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) out.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
        }
        writeRawHead(res, answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', () => { abort.abort(); resolve('done'); });
        answer.on('error', () => { abort.abort(); res.destroy(); resolve('done'); });
      });
      upstream.on('timeout', () => upstream.destroy(new GatewayAnswer(504, `no answer from pod ${pod.metadata.name} within ${TIMEOUT_MS} ms`)));
      upstream.on('error', (error) => {
        abort.abort();
        if (answered) return resolve('done');
        if (error instanceof GatewayAnswer) return reject(error);
        // the agent refused the stream (nothing listens, the pod is gone or stopping): nothing was carried
        if (/refused|not running|no pod|stopping|stopped|socket hang up/i.test(error.message)) return resolve(error.message);
        reject(new GatewayAnswer(502, `error trying to reach pod ${pod.metadata.name} on port ${port}: ${error.message}`));
      });
      upstream.end(body);
    });
  }
}

function readBody(req: GatewayRequest): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(new GatewayAnswer(413, `request body exceeds ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GatewayAnswer(413, `request body exceeds ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request's authority: HTTP/2's `:authority` (RFC 9113 8.3.1), else the Host header. */
export function authorityOf(req: GatewayRequest): string | undefined {
  const authority = req.headers[':authority'];
  return typeof authority === 'string' && authority !== '' ? authority : req.headers.host;
}

/**
 * The client's headers minus hop-by-hop and HTTP/2 pseudo-headers, `host` from the authority (one
 * Host, as HTTP/1.1 has it), with X-Forwarded-For/-Host/-Proto as ingress-nginx sets them.
 */
export function forwardedHeaders(req: GatewayRequest, scheme: 'http' | 'https'): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || name.startsWith(':') || name.startsWith('x-forwarded-') || name === 'content-length' || name === 'host') continue;
    out[name] = out[name] !== undefined ? `${out[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1]!;
  }
  const host = authorityOf(req);
  if (host !== undefined) out['host'] = host;
  const client = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = client;
  out['x-real-ip'] = client;
  out['x-forwarded-proto'] = scheme;
  if (host) out['x-forwarded-host'] = host;
  return out;
}
