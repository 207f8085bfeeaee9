// The Ingress gateway's listeners (decision 056): the TLS port speaks HTTP/2 when the client offers
// it by ALPN (`h2`) and HTTP/1.1 otherwise (node:http2's `allowHTTP1`); the plain port speaks
// HTTP/1.1, and HTTP/2 with prior knowledge (h2c: the connection opens with the HTTP/2 preface,
// `curl --http2-prior-knowledge`), told apart by the first bytes. An `Upgrade: h2c` offer over
// HTTP/1.1 is declined by the gateway (served as HTTP/1.1). Both versions reach the same handler
// with node's compatible request and response objects, HTTP/2 CONNECT streams included (RFC 8441
// WebSocket); HTTP/1.1 upgrades reach `upgrade`.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import {
  createSecureServer, createServer as createH2Server, type Http2SecureServer, type Http2Server, type Http2ServerRequest,
  type Http2ServerResponse, type SecureServerOptions,
} from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;
export type GatewayHandler = (req: GatewayRequest, res: GatewayResponse) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How long a request may take (HTTP/1.1 request timeout; HTTP/2 streams are bounded by the gateway's own timeouts). */
const REQUEST_TIMEOUT_MS = 60_000;
/** An idle connection (HTTP/2 session without streams, a plain connection that sent nothing yet) closes after this. */
const IDLE_TIMEOUT_MS = 120_000;
const SNIFF_TIMEOUT_MS = 20_000;
/** The client connection preface of HTTP/2 (RFC 9113 3.4): enough of it to tell it from any HTTP/1.x request line. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/** Bounds for what one HTTP/2 client may make the gateway hold (headers as large as HTTP/1.1's 16 KiB default, x4). */
const H2_OPTIONS = {
  maxHeaderListPairs: 256,
  maxSessionMemory: 16,
  peerMaxConcurrentStreams: 100,
  // enableConnectProtocol: extended CONNECT for WebSocket over HTTP/2 (RFC 8441, ingress-h2-websocket.ts)
  settings: { maxConcurrentStreams: 100, maxHeaderListSize: 64 * 1024, enablePush: false, enableConnectProtocol: true },
} as const;

/** Writes the status and raw header pairs (name, value, ...) on either version's response (node:http2's compat response takes them too). */
export function writeRawHead(res: GatewayResponse, status: number, raw: string[]): void {
  (res as ServerResponse).writeHead(status, raw);
}

/** One listening port of the gateway and every connection it accepted (closed on stop). */
export interface GatewayListener {
  address: AddressInfo;
  close(): Promise<void>;
}

function track(server: TcpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

function listen(server: TcpServer, host: string, port: number, sockets: Set<Socket>): Promise<GatewayListener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        }),
      });
    });
  });
}

/**
 * node:http2's compat layer sends CONNECT streams to 'connect' (405 when nobody listens): they go to
 * the handler too. On the TLS port an HTTP/1.1 CONNECT also arrives there (with a socket): 405.
 */
function connects(server: Http2Server | Http2SecureServer, handler: GatewayHandler): void {
  server.on('connect', (req: GatewayRequest, second: GatewayResponse | Duplex) => {
    if (req.httpVersionMajor === 2) return handler(req, second as GatewayResponse);
    const socket = second as Duplex;
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
}

function quiet(server: Http2Server | Http2SecureServer): void {
  server.on('sessionError', () => undefined);
  server.on('session', (session) => session.on('error', () => undefined));
  server.setTimeout(IDLE_TIMEOUT_MS); // idle sessions close
}

function http1(server: HttpServer): void {
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', (_error, socket: Duplex) => socket.destroy());
}

/** The plain port: HTTP/1.1, and h2c with prior knowledge. */
export function plainListener(host: string, port: number, handler: GatewayHandler, upgrade: UpgradeHandler): Promise<GatewayListener> {
  const one = createHttpServer(handler);
  http1(one);
  one.on('upgrade', upgrade);
  const two = createH2Server(H2_OPTIONS, handler);
  quiet(two);
  connects(two, handler);
  const server = createTcpServer((socket) => sniff(socket, one, two));
  return listen(server, host, port, track(server));
}

/** Reads until the first bytes tell HTTP/2's preface from an HTTP/1.x request, then hands the connection over with those bytes. */
function sniff(socket: Socket, one: HttpServer, two: Http2Server): void {
  socket.on('error', () => undefined);
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const prefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (prefix && n < H2_PREFACE.length) return; // not decided yet
    socket.off('data', onData);
    socket.pause();
    socket.setTimeout(0);
    socket.unshift(seen);
    (prefix ? two : one).emit('connection', socket);
    process.nextTick(() => socket.resume());
  };
  socket.on('data', onData);
}

/** The TLS port: HTTP/2 by ALPN, HTTP/1.1 otherwise; certificates by SNI. */
export function tlsListener(host: string, port: number, tls: Pick<SecureServerOptions, 'cert' | 'key' | 'SNICallback'>, handler: GatewayHandler, upgrade: UpgradeHandler): Promise<GatewayListener> {
  const server = createSecureServer({ ...H2_OPTIONS, ...tls, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] }, handler);
  quiet(server);
  connects(server, handler);
  server.on('upgrade', upgrade);
  server.on('tlsClientError', () => undefined);
  return listen(server, host, port, track(server));
}
