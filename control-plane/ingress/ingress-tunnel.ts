// The Ingress gateway's direct way to a pod (decision 040): an HTTPS request to the tunnel of the
// node that runs it (agent/network/tunnel-server.ts), over kept-alive connections pooled per node,
// with the gateway's own client certificate of the cluster CA (CN INGRESS_GATEWAY_USER). The node
// must present its node certificate (CN system:node:NODE). What it answers:
//   'done'        the pod's answer went out to the client;
//   refused       the node or pod refused before the pod saw the request (no holder of the port, a
//                 stopping container, the pod gone): safe to try another endpoint; `rawListener`
//                 when the port is a raw TCP listener (the tunnel carries HTTP to handlers only);
//   unreachable   no connection to the node's tunnel (NAT, firewall, agent down): nothing was sent.
// A node found unreachable is not tried again for UNREACHABLE_FOR_MS.
// The gateway's certificate is renewed, as the nodes' are, once less than a third of its validity
// is left (on the injected clock): in the background while the current one still serves; requests
// in flight finish on their connections, which close once idle; new ones use the new certificate.
import { X509Certificate } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { FramedStream } from '../../api/net/framed-stream.js';
import { NodeTunnelAgent } from '../../api/net/node-tunnel-agent.js';
import type { Clock } from '../../api/clock.js';
import { NODE_USER_PREFIX } from '../../api/node-identity.js';
import { writeRawHead, type GatewayResponse } from './ingress-servers.js';
import { MAX_TUNNEL_TIMEOUT_MS, TUNNEL_HEADER_PREFIX, TUNNEL_HEADERS } from '../../api/tunnel-headers.js';

/** The tunnel's upgrade token for a raw TCP connection (agent/network/tunnel-tcp.ts). */
const TCP_UPGRADE = 'skiff-tcp';

export interface TunnelTarget {
  node: string;
  /** The node's InternalIP and tunnel port. */
  address: string;
  port: number;
  podIP: string;
  podPort: number;
}

export interface TunnelCertificate {
  cert: string;
  key: string;
  caCert: string;
  /** When it expires (X509 validTo text). */
  notAfter: string;
}

export type TunnelOutcome = 'done' | { refused: string; rawListener: boolean } | { unreachable: string };

export class GatewayTunnelError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const CONNECT_TIMEOUT_MS = 2_000;
const UNREACHABLE_FOR_MS = 30_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
const REFUSED_CODES = new Set(['connection-refused', 'destination-unavailable']);

export class IngressTunnel {
  readonly #agents = new Map<string, Agent>();
  readonly #unreachable = new Map<string, number>();
  readonly #retired = new Set<Agent>();
  /** The certificate in use, and when to renew it (a third of its validity before it expires). */
  #current: { cert: TunnelCertificate; renewAt: number; expires: number } | undefined;
  #renewing: Promise<TunnelCertificate> | undefined;
  /** Certificates obtained (the first one included). */
  certificates = 0;
  /** TLS connections made to nodes' tunnels (kept-alive ones carry many requests). */
  connections = 0;

  constructor(private readonly options: { certificate: () => Promise<TunnelCertificate>; clock: Clock }) {}

  /** May this node's tunnel be tried now (not found unreachable lately)? */
  usable(node: string): boolean {
    const until = this.#unreachable.get(node);
    if (until === undefined) return true;
    if (until > this.options.clock.now()) return false;
    this.#unreachable.delete(node);
    return true;
  }

  async #tls(): Promise<TunnelCertificate> {
    const now = this.options.clock.now();
    const current = this.#current;
    if (current && now < current.renewAt) return current.cert;
    const renewing = this.#renewing ?? this.#renew();
    // still valid: serve with it while the next one is made
    if (current && now < current.expires) return current.cert;
    return renewing;
  }

  #renew(): Promise<TunnelCertificate> {
    const next = this.options.certificate().then((cert) => {
      const x509 = new X509Certificate(cert.cert);
      const from = Date.parse(x509.validFrom);
      const expires = Date.parse(cert.notAfter);
      this.#current = { cert, expires, renewAt: expires - (expires - from) / 3 };
      this.certificates++;
      this.#retireAgents(); // connections made with the old certificate finish what they carry, then close
      return cert;
    }).finally(() => {
      this.#renewing = undefined;
    });
    this.#renewing = next;
    next.catch(() => undefined); // a failed background renewal is tried again on the next request
    return next;
  }

  #agentFor(node: string): Agent {
    let agent = this.#agents.get(node);
    if (!agent) {
      agent = new NodeTunnelAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, minVersion: 'TLSv1.3' });
      this.#agents.set(node, agent);
    }
    return agent;
  }

  async forward(target: TunnelTarget, method: string, path: string, headers: Record<string, string>, body: Buffer, res: GatewayResponse, timeoutMs: number): Promise<TunnelOutcome> {
    const tls = await this.#tls();
    const outcome = await this.#send(tls, target, method, path, headers, body, res, timeoutMs);
    // a kept-alive connection the node had closed before our request reached it: once more, on a new one
    return outcome === 'stale' ? this.#send(tls, target, method, path, headers, body, res, timeoutMs).then((o) => (o === 'stale' ? { refused: 'the connection was reset', rawListener: false } : o)) : outcome;
  }

  #send(tls: TunnelCertificate, target: TunnelTarget, method: string, path: string, headers: Record<string, string>, body: Buffer, res: GatewayResponse, timeoutMs: number): Promise<TunnelOutcome | 'stale'> {
    const expected = `${NODE_USER_PREFIX}${target.node}`;
    return new Promise((resolve, reject) => {
      let connected = false;
      let settled = false;
      const settle = (outcome: TunnelOutcome | 'stale' | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const req = httpsRequest({
        host: target.address, port: target.port, method, path, agent: this.#agentFor(target.node),
        headers: tunnelRequestHeaders(target, headers, body.length, timeoutMs),
        key: tls.key, cert: tls.cert, ca: tls.caCert,
        servername: '', // nodes are addressed by IP: no SNI; the CN is checked below
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${target.address}:${target.port} is ${String(cert.subject?.CN)}, not ${expected}`)),
        timeout: timeoutMs,
      }, (answer) => void this.#answer(target, answer, res).then(settle, settle));
      const connectTimer = setTimeout(() => {
        if (connected) return;
        this.#unreachable.set(target.node, this.options.clock.now() + UNREACHABLE_FOR_MS);
        req.destroy();
        settle({ unreachable: `no connection to the tunnel of node ${target.node} at ${target.address}:${target.port} within ${CONNECT_TIMEOUT_MS} ms` });
      }, CONNECT_TIMEOUT_MS);
      req.on('socket', (socket) => {
        if (req.reusedSocket) connected = true;
        else socket.once('secureConnect', () => { connected = true; this.connections++; });
      });
      req.on('timeout', () => req.destroy(new GatewayTunnelError(504, `no answer from pod ${target.podIP}:${target.podPort} within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof GatewayTunnelError) return settle(error);
        if (!connected) {
          this.#unreachable.set(target.node, this.options.clock.now() + UNREACHABLE_FOR_MS);
          return settle({ unreachable: `tunnel of node ${target.node} at ${target.address}:${target.port}: ${error.message}` });
        }
        if (req.reusedSocket && error.code === 'ECONNRESET' && !res.headersSent) return settle('stale');
        settle(new GatewayTunnelError(502, `error trying to reach pod ${target.podIP}:${target.podPort} via node ${target.node}: ${error.message}`));
      });
      req.end(body);
    });
  }

  /** The node's answer: the pod's response piped to the client, or the node's own error. */
  async #answer(target: TunnelTarget, answer: IncomingMessage, res: GatewayResponse): Promise<TunnelOutcome> {
    const code = answer.headers[TUNNEL_HEADERS.error];
    if (typeof code === 'string') {
      const chunks: Buffer[] = [];
      for await (const chunk of answer) if (chunks.length < 64) chunks.push(chunk as Buffer);
      const message = Buffer.concat(chunks).toString('utf8').slice(0, 500);
      if (REFUSED_CODES.has(code)) return { refused: `node ${target.node}: ${message}`, rawListener: /raw TCP listener/.test(message) };
      throw new GatewayTunnelError(code === 'HTTP-response-timeout' ? 504 : 502, `error trying to reach pod ${target.podIP}:${target.podPort} via node ${target.node}: ${code}: ${message}`);
    }
    const out: string[] = [];
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) out.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
    }
    writeRawHead(res, answer.statusCode ?? 502, out);
    await new Promise<void>((resolve) => {
      answer.pipe(res);
      answer.on('end', resolve);
      answer.on('error', () => { res.destroy(); resolve(); });
      res.on('close', resolve);
    });
    return 'done';
  }

  /**
   * A raw byte stream to the pod's port over the node's tunnel (an HTTP upgrade to `skiff-tcp`,
   * frames both ways: api/net/framed-stream.ts), for a client's upgrade (WebSocket...). The node
   * takes it as from outside the cluster. Refused and unreachable as for requests.
   */
  async openStream(target: TunnelTarget): Promise<Duplex | { refused: string } | { unreachable: string }> {
    const tls = await this.#tls();
    const expected = `${NODE_USER_PREFIX}${target.node}`;
    return new Promise((resolve, reject) => {
      let connected = false;
      let settled = false;
      const settle = (outcome: Duplex | { refused: string } | { unreachable: string } | Error) => {
        if (settled) return void (outcome instanceof Duplex && outcome.destroy());
        settled = true;
        clearTimeout(connectTimer);
        if (outcome instanceof Error) {
          req.destroy();
          reject(outcome);
        } else resolve(outcome);
      };
      const req = httpsRequest({
        host: target.address, port: target.port, method: 'POST', path: '/', agent: this.#agentFor(target.node),
        headers: { connection: 'Upgrade', upgrade: TCP_UPGRADE, [TUNNEL_HEADERS.target]: `${target.podIP}:${target.podPort}` },
        key: tls.key, cert: tls.cert, ca: tls.caCert, servername: '',
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${target.address}:${target.port} is ${String(cert.subject?.CN)}, not ${expected}`)),
      });
      const unreachable = (why: string) => {
        this.#unreachable.set(target.node, this.options.clock.now() + UNREACHABLE_FOR_MS);
        settle({ unreachable: why });
      };
      const connectTimer = setTimeout(() => {
        if (!connected) unreachable(`no connection to the tunnel of node ${target.node} at ${target.address}:${target.port} within ${CONNECT_TIMEOUT_MS} ms`);
      }, CONNECT_TIMEOUT_MS);
      req.on('socket', (socket) => {
        if (req.reusedSocket) connected = true;
        else socket.once('secureConnect', () => { connected = true; this.connections++; });
      });
      req.on('upgrade', (_res, socket, head) => {
        socket.on('error', () => undefined);
        settle(new FramedStream(socket, head));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => { if (chunks.length < 64) chunks.push(chunk); });
        res.on('end', () => {
          const code = res.headers[TUNNEL_HEADERS.error];
          const message = `node ${target.node}: ${Buffer.concat(chunks).toString('utf8').slice(0, 500)}`;
          if (typeof code === 'string' && REFUSED_CODES.has(code)) settle({ refused: message });
          else settle(new GatewayTunnelError(502, `error trying to reach pod ${target.podIP}:${target.podPort} via node ${target.node}: ${String(code)}: ${message}`));
        });
        res.on('error', () => settle({ refused: `node ${target.node}: no answer` }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!connected) return unreachable(`tunnel of node ${target.node} at ${target.address}:${target.port}: ${error.message}`);
        settle({ refused: `node ${target.node}: ${error.message}` }); // nothing reached the pod: another endpoint may take it
      });
      req.end();
    });
  }

  /** The pools of an older certificate: idle connections close now, busy ones once their request is done. */
  #retireAgents(): void {
    for (const agent of this.#retired) if (Object.keys(agent.sockets).length === 0) this.#retired.delete(agent);
    for (const agent of this.#agents.values()) {
      const idle = (socket: unknown) => Object.values(agent.freeSockets).some((sockets) => sockets?.includes(socket as never));
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
      // after the agent's own listener: a socket it kept as idle goes; one it gave to a waiting request stays
      agent.on('free', (socket: { destroy(): void }) => { if (idle(socket)) socket.destroy(); });
      this.#retired.add(agent);
    }
    this.#agents.clear();
  }

  close(): void {
    for (const agent of [...this.#agents.values(), ...this.#retired]) agent.destroy();
    this.#agents.clear();
    this.#retired.clear();
  }
}

/**
 * The request head for the tunnel, as raw name/value pairs (node:http checks each as it writes the
 * head, without the per-header bookkeeping of an object): the client's headers minus any that would
 * speak to the tunnel itself (x-skiff-tunnel-*), a Host (as node:http would add: the tunnel's
 * address) when the client sent none, then the tunnel's own.
 */
export function tunnelRequestHeaders(target: TunnelTarget, headers: Record<string, string>, bodyLength: number, timeoutMs: number): string[] {
  const raw: string[] = [];
  let host: string | undefined;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith(TUNNEL_HEADER_PREFIX) || lower === 'content-length') continue;
    if (lower === 'host') host = headers[name];
    raw.push(name, headers[name]!);
  }
  if (host === undefined) raw.push('host', `${target.address}:${target.port}`);
  raw.push(
    TUNNEL_HEADERS.target, `${target.podIP}:${target.podPort}`,
    TUNNEL_HEADERS.authority, host ?? `${target.podIP}:${target.podPort}`,
    TUNNEL_HEADERS.scheme, 'http',
    TUNNEL_HEADERS.timeout, String(Math.max(1, Math.min(MAX_TUNNEL_TIMEOUT_MS, Math.round(timeoutMs)))),
    'content-length', String(bodyLength),
  );
  return raw;
}
