// The sending end of the tunnel (tunnel-protocol.ts): a pod's request to a pod of another node, as
// one HTTPS request to that node's tunnel, over kept-alive connections, authenticated with this
// node's certificate; the peer must present the certificate of the node that runs the pod (CN
// system:node:PEER of the cluster CA). A peer that cannot be reached (refused, no route, no TLS
// handshake within the connect timeout) is a TunnelUnreachableError: nothing was sent, so the
// request may go another way (the relay).
import { type Agent, request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { NodeTunnelAgent } from '../../api/net/node-tunnel-agent.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import type { NodeTls } from '../credentials/node-certificate.js';
import { headerObject, headerPairs, isErrorCode, MAX_TUNNEL_BODY_BYTES, TUNNEL_HEADERS } from './tunnel-protocol.js';

/** Nothing was sent: the peer's tunnel could not be reached. */
export class TunnelUnreachableError extends Error {
  override readonly name = 'TunnelUnreachableError';
}

/** How long connecting (TCP and TLS) to a peer may take. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const BACKSTOP_MS = 1_000;

export class TunnelClient {
  /** One pool of kept-alive connections per peer node: a connection checked for one node never carries another's requests. */
  readonly #agents = new Map<string, Agent>();
  #tls: NodeTls | undefined;

  constructor(private readonly options: { connectTimeoutMs?: number } = {}) {}

  /** This node's certificate (again, when renewed): later connections use it. */
  setTls(tls: NodeTls): void {
    this.#tls = tls;
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  get ready(): boolean {
    return this.#tls !== undefined;
  }

  /** This node's certificate, once it has one. */
  get tls(): NodeTls | undefined {
    return this.#tls;
  }

  /** The connect timeout (ms) for a request of `timeoutMs`. */
  connectTimeout(timeoutMs = Infinity): number {
    return Math.min(this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs);
  }

  /** The pool of connections to `node` (raw TCP upgrades take a kept-alive one when there is one). */
  agentFor(node: string): Agent {
    return this.#agentFor(node);
  }

  #agentFor(node: string): Agent {
    let agent = this.#agents.get(node);
    if (!agent) {
      agent = new NodeTunnelAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 8, minVersion: 'TLSv1.3' });
      this.#agents.set(node, agent);
    }
    return agent;
  }

  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse> {
    return this.#send(peer, podIP, port, request, timeoutMs, sourceIP).catch((error: Error & { staleSocket?: boolean }) => {
      // a kept-alive connection the peer had closed: once more on a new one (nothing was answered)
      if (error.staleSocket) return this.#send(peer, podIP, port, request, timeoutMs, sourceIP);
      throw error;
    });
  }

  #send(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP: string | undefined): Promise<HttpResponse> {
    const tls = this.#tls;
    if (!tls || !peer.address || !peer.port) return Promise.reject(new TunnelUnreachableError(`no tunnel to node ${peer.node}`));
    const expected = `system:node:${peer.node}`;
    return new Promise<HttpResponse>((resolve, reject) => {
      let connected = false;
      let answered = false;
      let settled = false;
      const finish = (error: Error | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(backstop);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(response!);
      };
      const req = httpsRequest({
        host: peer.address, port: peer.port, method: request.method, path: request.pathWithQuery, agent: this.#agentFor(peer.node),
        headers: {
          ...headerObject(request.headers),
          [TUNNEL_HEADERS.target]: `${podIP}:${port}`,
          [TUNNEL_HEADERS.authority]: request.authority,
          [TUNNEL_HEADERS.scheme]: request.scheme,
          [TUNNEL_HEADERS.timeout]: String(Math.max(1, Math.min(300_000, Math.round(timeoutMs)))),
          ...(sourceIP ? { [TUNNEL_HEADERS.source]: sourceIP } : {}),
          'content-length': String(request.body.byteLength),
        },
        key: tls.key, cert: tls.cert, ca: tls.caCert,
        servername: '', // peers are addressed by IP: no SNI (RFC 6066); the CN is checked below
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${peer.address}:${peer.port} is ${String(cert.subject?.CN)}, not ${expected}`)),
      }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_TUNNEL_BODY_BYTES) finish(new PodNetworkError('HTTP-response-incomplete', `the response from ${podIP}:${port} is larger than ${MAX_TUNNEL_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const code = res.headers[TUNNEL_HEADERS.error];
          if (code !== undefined) {
            const message = `node ${peer.node}: ${body.toString('utf8').slice(0, 500)}`;
            return finish(new PodNetworkError(isErrorCode(code) ? code : 'internal-error', message));
          }
          finish(undefined, { status: res.statusCode ?? 502, headers: headerPairs(res.rawHeaders), body });
        });
        res.on('error', (error) => finish(new PodNetworkError('HTTP-response-incomplete', `${podIP}:${port} via node ${peer.node}: ${error.message}`)));
      });
      const connectTimeoutMs = Math.min(this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs);
      const connectTimer = setTimeout(() => {
        if (!connected) finish(new TunnelUnreachableError(`no connection to the tunnel of node ${peer.node} at ${peer.address}:${peer.port} within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      const backstop = setTimeout(() => finish(new PodNetworkError('HTTP-response-timeout', `no response from ${podIP}:${port} via node ${peer.node} within ${timeoutMs} ms`)), timeoutMs + BACKSTOP_MS);
      req.on('socket', (socket) => {
        if (req.reusedSocket) connected = true;
        else socket.once('secureConnect', () => { connected = true; });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!connected) return finish(new TunnelUnreachableError(`tunnel of node ${peer.node} at ${peer.address}:${peer.port}: ${error.code ?? ''} ${error.message}`.trim()));
        const terminated = new PodNetworkError('connection-terminated', `${podIP}:${port} via node ${peer.node}: ${error.message}`);
        if (req.reusedSocket && !answered && error.code === 'ECONNRESET') Object.assign(terminated, { staleSocket: true });
        finish(terminated);
      });
      req.end(request.body);
    });
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    this.#tls = undefined;
  }
}
