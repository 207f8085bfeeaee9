// Raw TCP between pods of two nodes over the tunnel (decision 037): one upgraded HTTPS request per
// pod connection on the same mutual-TLS server, then frames both ways (framed-stream.ts).
//   POST / HTTP/1.1
//   Connection: Upgrade / Upgrade: skiff-tcp
//   x-skiff-tunnel-target: POD_IP:PORT        the pod port on the receiving node
//   x-skiff-tunnel-source: POD_IP:PORT        the connecting pod and its port (trusted only inside
//                                             the calling node's pod CIDR, as for HTTP)
// The Ingress gateway (CN INGRESS_GATEWAY_USER) may open such connections too, for clients' HTTP
// upgrades: they count as from outside the cluster (node '', any source header ignored).
// 101 Switching Protocols: the pod took the connection (a listener queued it, or an HTTP handler's
// port parses it). Any other status: refused, with `x-skiff-tunnel-error: <error-code>` and the
// message as body (connection-refused: nothing listens, or a NetworkPolicy denies it).
import { request as httpsRequest, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { NodeTls } from '../credentials/node-certificate.js';
import { FramedStream, splice } from '../../api/net/framed-stream.js';
import { settleUpgrade } from './upgrade-request.js';
import { TunnelUnreachableError } from './tunnel-client.js';
import { isErrorCode, parseTarget, TUNNEL_HEADERS } from './tunnel-protocol.js';
import { INGRESS_GATEWAY_USER } from '../../api/tunnel-headers.js';

export const TCP_UPGRADE = 'skiff-tcp';

/** Opens a byte stream to a pod port of this node for a connection from `source` of `node`; throws PodNetworkError. */
export type AcceptFromPeer = (node: string, source: { host: string; port: number } | undefined, podIP: string, port: number, options: { listenerOnly?: boolean }) => Duplex;

/** Header: only a guest listener may take the connection (NodePorts, which serve HTTP handlers as HTTP). */
export const LISTENER_ONLY_HEADER = 'x-skiff-tunnel-listener-only';

const NODE_CN = /^system:node:([A-Za-z0-9._-]{1,253})$/;

/**
 * `IP:PORT` of the connecting pod (port 0 or none: no port of its own, e.g. a NodePort client as
 * the calling node's address), or undefined (then the connection counts as from an unknown address).
 */
export function parseSource(text: unknown): { host: string; port: number } | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const portless = !text.includes(':') || text.endsWith(':0');
  const parsed = parseTarget(portless ? `${text.replace(/:0$/, '')}:1` : text);
  if (!parsed) return undefined;
  return { host: parsed.ip, port: portless ? 0 : parsed.port };
}

/** The tunnel server's 'upgrade' listener: a pod connection from another node, or a refusal written to the socket. */
export function serveTcpUpgrade(accept: AcceptFromPeer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => undefined);
  const refuse = (status: number, code: string, message: string) => {
    const body = Buffer.from(message.slice(0, 2000));
    socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain; charset=utf-8\r\n${TUNNEL_HEADERS.error}: ${code}\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString()}`);
  };
  const tls = socket as TLSSocket;
  const cn = tls.authorized ? tls.getPeerCertificate().subject?.CN : undefined;
  // the Ingress gateway carries clients' upgrades (WebSocket...): from outside the cluster, never from a pod
  const gateway = cn === INGRESS_GATEWAY_USER;
  const node = gateway ? '' : typeof cn === 'string' ? NODE_CN.exec(cn)?.[1] : undefined;
  if (node === undefined) return refuse(403, 'HTTP-request-denied', 'only nodes of this cluster and its Ingress gateway may use the tunnel');
  if (String(req.headers.upgrade).toLowerCase() !== TCP_UPGRADE) return refuse(400, 'HTTP-request-URI-invalid', `the tunnel upgrades to ${TCP_UPGRADE} only`);
  const target = parseTarget(req.headers[TUNNEL_HEADERS.target] as string | undefined);
  if (!target) return refuse(400, 'HTTP-request-URI-invalid', `${TUNNEL_HEADERS.target} must be POD_IP:PORT`);
  let stream: Duplex;
  try {
    stream = accept(node, gateway ? undefined : parseSource(req.headers[TUNNEL_HEADERS.source]), target.ip, target.port, { listenerOnly: req.headers[LISTENER_ONLY_HEADER] === '1' });
  } catch (error) {
    const code = error instanceof PodNetworkError ? error.code : 'internal-error';
    return refuse(code === 'destination-unavailable' ? 403 : 502, code, (error as Error)?.message ?? String(error));
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${TCP_UPGRADE}\r\n\r\n`);
  splice(stream, new FramedStream(socket, head));
}

export interface TunnelStreamTarget {
  peer: DesiredPeer;
  podIP: string;
  port: number;
  source?: { host: string; port: number } | undefined;
  listenerOnly?: boolean;
}

/**
 * Opens a pod connection on `peer`'s tunnel: the far pod's end as a Duplex once it accepted.
 * Rejects with TunnelUnreachableError when the peer cannot be reached (nothing was sent: the relay
 * may be tried), PodNetworkError when it refused.
 */
export function openTunnelStream(tls: NodeTls | undefined, agent: Agent, target: TunnelStreamTarget, connectTimeoutMs: number): Promise<Duplex> {
  return open(tls, agent, target, connectTimeoutMs).catch((error: Error & { staleSocket?: boolean }) => {
    // a kept-alive connection the peer had closed: once more on a new one (nothing was accepted)
    if (error.staleSocket) return open(tls, agent, target, connectTimeoutMs);
    throw error;
  });
}

/** What names the far end of a raw TCP upgrade, on the tunnel and on the relay alike. */
export function streamUpgradeHeaders({ podIP, port, source, listenerOnly }: TunnelStreamTarget): Record<string, string> {
  return {
    [TUNNEL_HEADERS.target]: `${podIP}:${port}`,
    ...(source ? { [TUNNEL_HEADERS.source]: `${source.host}:${source.port}` } : {}),
    ...(listenerOnly ? { [LISTENER_ONLY_HEADER]: '1' } : {}),
  };
}

function open(tls: NodeTls | undefined, agent: Agent, target: TunnelStreamTarget, connectTimeoutMs: number): Promise<Duplex> {
  const { peer, podIP, port } = target;
  if (!tls || !peer.address || !peer.port) return Promise.reject(new TunnelUnreachableError(`no tunnel to node ${peer.node}`));
  const expected = `system:node:${peer.node}`;
  let connected = false;
  const req = httpsRequest({
    host: peer.address, port: peer.port, method: 'POST', path: '/', agent,
    headers: {
      connection: 'Upgrade', upgrade: TCP_UPGRADE, ...streamUpgradeHeaders(target),
    },
    key: tls.key, cert: tls.cert, ca: tls.caCert,
    servername: '', // peers are addressed by IP: no SNI (RFC 6066); the CN is checked below
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${peer.address}:${peer.port} is ${String(cert.subject?.CN)}, not ${expected}`)),
  });
  req.on('socket', (socket) => {
    if (req.reusedSocket) connected = true;
    else socket.once('secureConnect', () => { connected = true; });
  });
  return settleUpgrade(req, {
    timeoutMs: connectTimeoutMs,
    onTimeout: () => (connected ? undefined : new TunnelUnreachableError(`no connection to the tunnel of node ${peer.node} at ${peer.address}:${peer.port} within ${connectTimeoutMs} ms`)),
    refused: (res, body, error) => {
      if (error) return new PodNetworkError('connection-refused', `dial tcp ${podIP}:${port} via node ${peer.node}: no answer`);
      const code = res.headers[TUNNEL_HEADERS.error];
      return new PodNetworkError(isErrorCode(code) ? code : 'connection-refused', `dial tcp ${podIP}:${port} via node ${peer.node}: ${body.slice(0, 500)}`);
    },
    failed: (error) => {
      if (!connected) return new TunnelUnreachableError(`tunnel of node ${peer.node} at ${peer.address}:${peer.port}: ${error.code ?? ''} ${error.message}`.trim());
      const refused = new PodNetworkError('connection-refused', `dial tcp ${podIP}:${port} via node ${peer.node}: ${error.message}`);
      return req.reusedSocket && error.code === 'ECONNRESET' ? Object.assign(refused, { staleSocket: true }) : refused;
    },
  });
}
