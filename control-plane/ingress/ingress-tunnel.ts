// The Ingress gateway's direct way to a pod (decision 040): an HTTPS request to the tunnel of the
// node that runs it (agent/network/tunnel-server.ts), over kept-alive connections pooled per node
// (undici's client for requests: tunnel-dispatch.ts; node:https for upgrades), with the gateway's own client certificate of the cluster CA (CN INGRESS_GATEWAY_USER). The node
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
import { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { FramedStream } from '../../api/net/framed-stream.js';
import { NodeTunnelAgent } from '../../api/net/node-tunnel-agent.js';
import type { Clock } from '../../api/clock.js';
import { NODE_USER_PREFIX } from '../../api/node-identity.js';
import type { Pool } from 'undici';
import type { GatewayResponse } from './ingress-servers.js';
import { dispatchThrough, tunnelPool } from './tunnel-dispatch.js';
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
const REFUSED_CODES = new Set(['connection-refused', 'destination-unavailable']);

export class IngressTunnel {
  /** Requests: undici pools per node (tunnel-dispatch.ts). */
  readonly #pools = new Map<string, { address: string; port: number; pool: Pool }>();
  /** Upgrades (openStream): node:https pools per node. */
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

  /** The undici pool for requests to the node at its current address (a node that moved gets a new one; the old one closes once idle). */
  #poolFor(target: TunnelTarget, tls: TunnelCertificate): Pool {
    const known = this.#pools.get(target.node);
    if (known && known.address === target.address && known.port === target.port) return known.pool;
    if (known) void known.pool.close().catch(() => undefined);
    const pool = tunnelPool({ address: target.address, port: target.port, expectedCN: `${NODE_USER_PREFIX}${target.node}` }, tls, CONNECT_TIMEOUT_MS, () => this.connections++);
    this.#pools.set(target.node, { address: target.address, port: target.port, pool });
    return pool;
  }

  async forward(target: TunnelTarget, method: string, path: string, headers: Record<string, string>, body: Buffer, res: GatewayResponse, timeoutMs: number): Promise<TunnelOutcome> {
    const tls = await this.#tls();
    const raw = tunnelRequestHeaders(target, headers, body.length, timeoutMs);
    let outcome = await dispatchThrough(this.#poolFor(target, tls), method, path, raw, body, res, timeoutMs);
    // a kept-alive connection the node had closed before our request reached it: once more, on a new one
    if (outcome.kind === 'reset') {
      outcome = await dispatchThrough(this.#poolFor(target, tls), method, path, raw, body, res, timeoutMs);
      if (outcome.kind === 'reset') return { refused: `node ${target.node}: the connection was reset (${outcome.message})`, rawListener: false };
    }
    const where = `pod ${target.podIP}:${target.podPort} via node ${target.node}`;
    switch (outcome.kind) {
      case 'done':
      case 'broken':
        return 'done';
      case 'unreachable':
        this.#unreachable.set(target.node, this.options.clock.now() + UNREACHABLE_FOR_MS);
        return { unreachable: `tunnel of node ${target.node} at ${target.address}:${target.port}: ${outcome.message}` };
      case 'node-error': {
        const message = `node ${target.node}: ${outcome.message}`;
        if (REFUSED_CODES.has(outcome.code)) return { refused: message, rawListener: /raw TCP listener/.test(message) };
        throw new GatewayTunnelError(outcome.code === 'HTTP-response-timeout' ? 504 : 502, `error trying to reach ${where}: ${outcome.code}: ${message}`);
      }
      case 'timeout':
        throw new GatewayTunnelError(504, `no answer from pod ${target.podIP}:${target.podPort} within ${timeoutMs} ms`);
      case 'invalid':
        throw new GatewayTunnelError(400, `the request cannot be carried to ${where}: ${outcome.message}`);
    }
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
    // undici's close: requests in flight finish, then the connections close
    for (const { pool } of this.#pools.values()) void pool.close().catch(() => undefined);
    this.#pools.clear();
  }

  close(): void {
    for (const agent of [...this.#agents.values(), ...this.#retired]) agent.destroy();
    for (const { pool } of this.#pools.values()) void pool.destroy().catch(() => undefined);
    this.#pools.clear();
    this.#agents.clear();
    this.#retired.clear();
  }
}

/**
 * The request head for the tunnel, as raw name/value pairs: the client's headers minus any that
 * would speak to the tunnel itself (x-skiff-tunnel-*), Host the tunnel's own address (the client's
 * goes as x-skiff-tunnel-authority, which is what the pod sees; the tunnel drops Host: undici would
 * take a name in it for the connection's TLS server name, and open a new connection per name), then
 * the tunnel's own headers.
 */
export function tunnelRequestHeaders(target: TunnelTarget, headers: Record<string, string>, bodyLength: number, timeoutMs: number): string[] {
  const tunnelHost = target.address.includes(':') ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
  const raw: string[] = ['host', tunnelHost];
  let host: string | undefined;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'host') {
      host = headers[name];
      continue;
    }
    // expect: the gateway has read the whole body already (and undici sends none)
    if (lower.startsWith(TUNNEL_HEADER_PREFIX) || lower === 'content-length' || lower === 'expect') continue;
    raw.push(name, headers[name]!);
  }
  raw.push(
    TUNNEL_HEADERS.target, `${target.podIP}:${target.podPort}`,
    TUNNEL_HEADERS.authority, host ?? `${target.podIP}:${target.podPort}`,
    TUNNEL_HEADERS.scheme, 'http',
    TUNNEL_HEADERS.timeout, String(Math.max(1, Math.min(MAX_TUNNEL_TIMEOUT_MS, Math.round(timeoutMs)))),
    'content-length', String(bodyLength),
  );
  return raw;
}
