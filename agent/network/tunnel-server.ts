// The receiving end of the tunnel (tunnel-protocol.ts): an HTTPS server on the node IP that asks
// every client for a certificate of the cluster CA and hands each request to a pod of this node.
// Clients are nodes (CN system:node:NAME) and the control plane's Ingress gateway (CN
// INGRESS_GATEWAY_USER, decision 040: its requests count as from outside the cluster, any source
// header ignored). Traffic for a pod IP this node does not run is refused (403), as is any other
// client. Raw TCP from another node (nodes only) comes as a CONNECT stream of an HTTP/2 session
// (tunnel-h2.ts, decision 055; ALPN h2) or, from older agents, as an HTTP/1.1 upgrade to `skiff-tcp`
// (tunnel-tcp.ts); the gateway's upgrades carry a client's upgrade from outside (no source). The
// certificate is swapped in place when the agent renews it.
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import { INGRESS_GATEWAY_USER } from '../../api/tunnel-headers.js';
import type { NodeTls } from '../credentials/node-certificate.js';
import { serveTcpUpgrade, type AcceptFromPeer } from './tunnel-tcp.js';
import { H2_SETTINGS, serveTcpStream, SESSION_WINDOW_BYTES } from './tunnel-h2.js';
import { serveUdpUpgrade, UDP_UPGRADE, type AcceptDatagram } from './udp-tunnel.js';
import {
  headerObject, headerPairs, MAX_TUNNEL_BODY_BYTES, MAX_TUNNEL_TIMEOUT_MS, parseTarget, TUNNEL_HEADERS,
} from './tunnel-protocol.js';

export interface TunnelServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  tls: NodeTls;
  /** Does a pod with this IP run on this node? */
  runs(podIP: string): boolean;
  /** Hands the request from pod `sourceIP` of `node` to the pod's port (NodeNetwork.requestFromPeer); node '' and no source: the Ingress gateway. */
  deliver(node: string, sourceIP: string | undefined, podIP: string, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse>;
  maxBodyBytes?: number;
  /** Raw TCP from a pod of another node (tunnel-tcp.ts); none: upgrades are refused. */
  acceptStream?: AcceptFromPeer;
  /** UDP datagrams from pods of another node (udp-tunnel.ts); none: `skiff-udp` upgrades are refused. */
  acceptDatagram?: AcceptDatagram;
  /** Called for every request served, with the calling node (INGRESS_GATEWAY_USER for the gateway). */
  onRequest?(node: string, status: number): void;
}

const NODE_CN = /^system:node:([A-Za-z0-9._-]{1,253})$/;

export class TunnelServer {
  private constructor(private readonly server: Http2SecureServer, private readonly connections: Set<Duplex>) {}

  static async start(options: TunnelServerOptions): Promise<TunnelServer> {
    const server = createSecureServer({
      key: options.tls.key, cert: options.tls.cert, ca: options.tls.caCert,
      requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3',
      allowHTTP1: true, settings: H2_SETTINGS,
    });
    // HTTP/1.1 requests (pods' requests, the Ingress gateway) come as 'request'; adding that listener
    // also installs node's HTTP/2 compatibility layer on 'stream', which would read every stream
    // itself: HTTP/2 streams are raw TCP only (tunnel-h2.ts), so that layer is taken off again
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void serve(options, req, res).catch(() => res.destroy()));
    server.removeAllListeners('stream');
    server.on('stream', (stream, headers) => {
      if (!options.acceptStream) return void stream.close(0x7 /* REFUSED_STREAM */);
      serveTcpStream(options.acceptStream, stream, headers);
    });
    server.on('session', (session: Http2Session) => {
      session.on('error', () => undefined);
      session.once('localSettings', () => { if (!session.destroyed) session.setLocalWindowSize(SESSION_WINDOW_BYTES); });
    });
    (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 30_000;
    (server as unknown as { headersTimeout: number }).headersTimeout = 20_000;
    server.on('tlsClientError', () => undefined);
    // every TLS connection (HTTP/1.1, HTTP/2 sessions, upgraded streams): closed with the server
    const connections = new Set<Duplex>();
    server.on('secureConnection', (socket: TLSSocket) => {
      socket.setNoDelay(true); // HTTP/2 sessions carry many streams' small writes
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // upgraded sockets are among `connections` (closed with the server)
      const udp = String(req.headers.upgrade).toLowerCase() === UDP_UPGRADE;
      if (udp ? !options.acceptDatagram : !options.acceptStream) return void socket.destroy();
      if (udp) return serveUdpUpgrade(options.acceptDatagram!, req, socket, head);
      serveTcpUpgrade(options.acceptStream!, req, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new TunnelServer(server, connections);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A renewed certificate: new connections use it. */
  setTls(tls: NodeTls): void {
    this.server.setSecureContext({ key: tls.key, cert: tls.cert, ca: tls.caCert });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.connections) socket.destroy();
    });
  }
}

async function serve(options: TunnelServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const fail = (status: number, code: string, message: string) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', [TUNNEL_HEADERS.error]: code, ...(status === 413 ? { connection: 'close' } : {}) });
    res.end(message);
    options.onRequest?.(node ?? '', status);
  };
  const cn = peerName(req.socket as TLSSocket);
  const gateway = cn === INGRESS_GATEWAY_USER;
  const node = typeof cn === 'string' ? (gateway ? INGRESS_GATEWAY_USER : NODE_CN.exec(cn)?.[1]) : undefined;
  if (!node) return fail(403, 'HTTP-request-denied', 'only nodes of this cluster and its Ingress gateway may use the tunnel');
  const target = parseTarget(req.headers[TUNNEL_HEADERS.target] as string | undefined);
  if (!target) return fail(400, 'HTTP-request-URI-invalid', `${TUNNEL_HEADERS.target} must be POD_IP:PORT`);
  const scheme = req.headers[TUNNEL_HEADERS.scheme] ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') return fail(400, 'HTTP-request-URI-invalid', `${TUNNEL_HEADERS.scheme} must be http or https`);
  const authority = (req.headers[TUNNEL_HEADERS.authority] as string | undefined) ?? `${target.ip}:${target.port}`;
  if (authority.length > 1024) return fail(400, 'HTTP-request-URI-invalid', 'authority too long');
  const timeoutText = req.headers[TUNNEL_HEADERS.timeout] as string | undefined;
  const timeoutMs = timeoutText === undefined ? 30_000 : Number(timeoutText);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TUNNEL_TIMEOUT_MS) {
    return fail(400, 'HTTP-request-URI-invalid', `${TUNNEL_HEADERS.timeout} must be 1-${MAX_TUNNEL_TIMEOUT_MS}`);
  }
  if (!req.url?.startsWith('/')) return fail(400, 'HTTP-request-URI-invalid', 'the path must start with /');
  if (!options.runs(target.ip)) return fail(403, 'destination-unavailable', `no pod with IP ${target.ip} runs on this node`);
  const body = await readBody(req, options.maxBodyBytes ?? MAX_TUNNEL_BODY_BYTES);
  if (!body) return fail(413, 'HTTP-request-body-size', `the request body is larger than ${options.maxBodyBytes ?? MAX_TUNNEL_BODY_BYTES} bytes`);
  let response: HttpResponse;
  try {
    const source = gateway ? undefined : req.headers[TUNNEL_HEADERS.source];
    response = await options.deliver(gateway ? '' : node, typeof source === 'string' && source.length <= 64 ? source : undefined, target.ip, target.port, {
      method: req.method ?? 'GET', pathWithQuery: req.url, scheme, authority, headers: headerPairs(req.rawHeaders), body,
    }, timeoutMs);
  } catch (error) {
    const code = error instanceof PodNetworkError ? error.code : 'internal-error';
    return fail(code === 'destination-unavailable' ? 403 : code === 'HTTP-response-timeout' ? 504 : 502, code, (error as Error).message ?? String(error));
  }
  res.writeHead(response.status, { ...headerObject(response.headers), 'content-length': String(response.body.byteLength) });
  res.end(response.body);
  options.onRequest?.(node, response.status);
}

/** The client certificate's CN, read once per connection (getPeerCertificate() decodes it on every call). */
const peerNames = new WeakMap<TLSSocket, string | undefined>();
function peerName(socket: TLSSocket): string | undefined {
  if (peerNames.has(socket)) return peerNames.get(socket);
  const cn = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
  const name = typeof cn === 'string' ? cn : undefined;
  peerNames.set(socket, name);
  return name;
}

/** The whole body, or undefined when it is larger than `max`. */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume(); // discarded; the 413 closes the connection
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
