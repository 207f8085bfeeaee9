// Ingress served by the agent on its node IP (decision 075): `--ingress-port` (HTTP/1.1) and
// `--ingress-tls-port` (HTTPS, the certificate chosen by SNI from the TLS Secrets skiff's
// Ingresses name, a self-signed default otherwise). Routing is the control plane's gateway's
// (api/ingress/ingress-router.ts) over the Ingresses of the node's desired state; a request then
// goes into the backend Service the way a NodePort request does (service-entry.ts: a Ready endpoint
// of any node, through the agents' tunnel for other nodes, another one when refused), so it keeps
// working while the control plane is away. Answers of its own: 400 (a request line or host node
// cannot read, a path not starting with /), 404 `default backend - 404`, 503 (Service or port
// unknown, no Ready endpoint), 502, 504, 413 (body over 8 MiB).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { generate } from 'selfsigned';
import { systemClock, type Clock } from '../../api/clock.js';
import { tableOfEntries } from '../../api/ingress/ingress-entries.js';
import { IngressTable, type BackendRef } from '../../api/ingress/ingress-router.js';
import type { DesiredIngress } from '../../api/mqtt/desired-ingress.js';
import type { IngressPorts } from '../../api/ingress/ingress-ports.js';
import { TUNNEL_HEADER_PREFIX } from '../../api/tunnel-headers.js';
import type { HttpRequest } from '../../runtime/pod-runtime.js';
import { DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, proxyRequest } from '../pods/host-port-proxy.js';
import type { NodeNetwork } from './node-network.js';
import { requestToService } from './service-entry.js';

/** Larger request bodies get 413 (as on the control plane's gateway). */
export const NODE_INGRESS_MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_CONTEXTS = 1_000;

export interface NodeIngressOptions {
  /** The node IP: where the ports listen. */
  address: string;
  /** HTTP port (0: any free port). */
  port?: number;
  /** HTTPS port (0: any free port); absent: no HTTPS. */
  tlsPort?: number;
  network: NodeNetwork;
  clock?: Clock;
  logger?: Logger;
  requestTimeoutMs?: number;
}

export class NodeIngress {
  #table = new IngressTable([]);
  /** namespace/secretName -> its certificate (the Secrets the desired state carried). */
  #contexts = new Map<string, SecureContext>();
  readonly #servers: Array<Server | HttpsServer> = [];
  readonly #sockets = new Set<Socket | Duplex>();
  #ports: IngressPorts = {};
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(private readonly options: NodeIngressOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS;
  }

  /** The ports served, once listening (reported in the node status); undefined before. */
  get ports(): IngressPorts | undefined {
    return this.#ports.http || this.#ports.https ? { ...this.#ports } : undefined;
  }

  /** The Ingresses and certificates of a new desired state (absent: none; every request gets 404). */
  set(desired: DesiredIngress | undefined): void {
    this.#table = tableOfEntries(desired?.ingresses ?? []);
    const contexts = new Map<string, SecureContext>();
    for (const c of (desired?.certificates ?? []).slice(0, MAX_CONTEXTS)) {
      try {
        contexts.set(`${c.namespace}/${c.name}`, createSecureContext({ cert: c.cert, key: c.key }));
      } catch (error) {
        this.options.logger?.warn({ secret: `${c.namespace}/${c.name}`, err: (error as Error).message }, 'ingress: TLS Secret unusable; its hosts get the default certificate');
      }
    }
    this.#contexts = contexts;
  }

  /** Listens on the asked ports; rejects when one cannot be bound (the flag cannot be honoured). */
  async start(): Promise<void> {
    const { port, tlsPort } = this.options;
    if (port !== undefined) this.#ports.http = await this.#listen(this.#track(createServer((req, res) => this.#serve('http', req, res))), port);
    if (tlsPort !== undefined) {
      // names no Ingress covers get this one, as ingress-nginx's "fake certificate"
      const fake = await generate([{ name: 'commonName', value: 'skiff ingress default certificate' }], { keyType: 'ec', algorithm: 'sha256' });
      const server = createHttpsServer({
        cert: fake.cert, key: fake.private,
        SNICallback: (name, done) => done(null, this.#contextFor(name)),
      }, (req, res) => this.#serve('https', req, res));
      this.#ports.https = await this.#listen(this.#track(server), tlsPort);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#ports = {};
  }

  #contextFor(name: string): SecureContext | undefined {
    const ref = this.#table.tlsFor(name);
    return ref ? this.#contexts.get(`${ref.namespace}/${ref.secretName}`) : undefined;
  }

  #track<S extends Server | HttpsServer>(server: S): S {
    server.requestTimeout = this.#timeoutMs;
    server.headersTimeout = Math.min(this.#timeoutMs, 60_000);
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // a request node cannot parse (bad header characters, oversized head): 400, never a crash
    server.on('clientError', (_error, socket: Duplex) => {
      if ((socket as Socket).writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.#servers.push(server);
    return server;
  }

  #listen(server: Server | HttpsServer, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.address, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  #serve(scheme: 'http' | 'https', req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => undefined);
    const url = req.url ?? '';
    if (!url.startsWith('/')) return answer(res, 400, 'the path must start with /');
    const route = this.#table.match(req.headers.host, url);
    if (!route) return answer(res, 404, 'default backend - 404');
    const found = this.#backend(route);
    if (typeof found === 'string') return answer(res, 503, found);
    const { service, port } = found;
    const client = req.socket.remoteAddress ?? '';
    const address = this.options.address;
    const authority = `${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort ?? 0}`;
    void proxyRequest(req, res, (request, timeoutMs) =>
      requestToService(this.options.network, service, port, forwarded(request, scheme, client, req.headers.host), timeoutMs, { client, nodeIP: address }),
    { clock: this.#clock, requestTimeoutMs: this.#timeoutMs, maxBodyBytes: NODE_INGRESS_MAX_BODY_BYTES, authority }).catch(() => undefined);
  }

  /** The Service and its port number a route names, or why it cannot be served. */
  #backend(route: BackendRef) {
    const service = this.options.network.services.get(route.namespace, route.service);
    const key = `${route.namespace}/${route.service}`;
    if (!service) return `service ${key} not found`;
    const port = route.port.number !== undefined
      ? service.ports.find((p) => p.port === route.port.number && (p.protocol ?? 'TCP') === 'TCP')
      : service.ports.find((p) => p.name === route.port.name && (p.protocol ?? 'TCP') === 'TCP');
    if (!port) return `service ${key} has no port ${route.port.number ?? JSON.stringify(route.port.name ?? '')}`;
    return { service, port: port.port };
  }
}

/** The request as the pod gets it: the client's forwarding and tunnel headers replaced by the node's (as the gateway sets them). */
function forwarded(request: HttpRequest, scheme: 'http' | 'https', client: string, host: string | undefined): HttpRequest {
  const headers = request.headers.filter(([name]) => !name.startsWith('x-forwarded-') && name !== 'x-real-ip' && !name.startsWith(TUNNEL_HEADER_PREFIX));
  headers.push(['x-forwarded-for', client], ['x-real-ip', client], ['x-forwarded-proto', scheme]);
  if (host) headers.push(['x-forwarded-host', host]);
  return { ...request, scheme, headers };
}

function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
