// NodePorts and LoadBalancer ports on the agent (kube-proxy's and K3s ServiceLB's part): every
// node serves each TCP port of a NodePort or LoadBalancer Service on `<node-ip>:<nodePort>`, and
// a LoadBalancer the control plane admitted (`loadBalancer` in the desired state: it won its
// ports) also on `<node-ip>:<port>`. A connection goes to the Service's Ready endpoints on this
// node (service-entry.ts): as raw TCP (a byte stream, chosen per connection) when they are guest
// listeners (wasi:sockets), else as HTTP/1.1 read by an in-process node:http server, each request
// to an endpoint of its own. The listeners follow the desired state's
// Services: a port opens when its Service appears and closes when it goes; a listener reads the
// Service afresh for each request, so endpoint changes need no rebinding.
// A port the node cannot bind (another process has it, EACCES below 1024) is logged, reported in
// the node status (`unserved`: the control plane turns it into a Warning event on the Service and
// leaves the node out of its LoadBalancer status) and tried again every RETRY_MS and with the next
// desired state.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../api/clock.js';
import type { DesiredService } from '../../api/mqtt/messages.js';
import { DEFAULT_HOST_PORT_MAX_BODY_BYTES, DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, GatewayError, proxyRequest } from '../pods/host-port-proxy.js';
import type { NodeNetwork } from './node-network.js';
import { connectToRemoteService, connectToService, requestToService } from './service-entry.js';

export interface NodePortsOptions {
  /** The node IP (`--node-ip`): where the ports listen. */
  address: string;
  network: NodeNetwork;
  clock?: Clock;
  logger?: Logger;
  /** How long one request may take, handler included (default 30 s). */
  requestTimeoutMs?: number;
  /** Larger request bodies get 413 (default 1 MiB). */
  maxBodyBytes?: number;
  /** Called when the set of ports the node could not bind changes. */
  onUnservedChange?: () => void;
}

/** A port this node wants but could not bind. */
export interface UnservedPort {
  port: number;
  service: string;
  code: string;
}

const RETRY_MS = 10_000;

/** What a node port leads to. */
export interface NodePortTarget {
  kind: 'NodePort' | 'LoadBalancer';
  /** namespace/name of the Service. */
  service: string;
  /** The service port. */
  port: number;
}

export interface NodePortListener extends NodePortTarget {
  nodePort: number;
  listening: boolean;
}

interface Listener {
  nodePort: number;
  target: NodePortTarget;
  /** Listens; each connection goes to a raw TCP endpoint, or to `http`. */
  server: TcpServer;
  /** Serves connections to HTTP-handler endpoints request by request (never listens itself). */
  http: Server;
  /** Raw TCP connections (closed with the listener on agent shutdown). */
  raw: Set<Socket>;
  listening: boolean;
  closed: boolean;
}

/** The ports every node serves for `services`: nodePorts, and the ports of admitted LoadBalancers. */
export function wantedNodePorts(services: readonly DesiredService[]): Map<number, NodePortTarget> {
  const wanted = new Map<number, NodePortTarget>();
  const add = (port: number, target: NodePortTarget) => {
    if (!wanted.has(port)) wanted.set(port, target); // the control plane keeps ports unique; first wins otherwise
  };
  for (const s of services) {
    const service = `${s.namespace}/${s.name}`;
    for (const p of s.ports) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      if (p.nodePort) add(p.nodePort, { kind: 'NodePort', service, port: p.port });
      if (s.loadBalancer) add(p.port, { kind: 'LoadBalancer', service, port: p.port });
    }
  }
  return wanted;
}

export class NodePorts {
  readonly #listeners = new Map<number, Listener>();
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #maxBodyBytes: number;
  #stopped = false;
  readonly #unserved = new Map<number, UnservedPort>();
  #services: readonly DesiredService[] = [];
  #retry: { cancel(): void } | undefined;

  constructor(private readonly options: NodePortsOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_HOST_PORT_MAX_BODY_BYTES;
    options.network.onServices((services) => this.sync(services));
  }

  /** Opens the ports `services` want and closes the others. */
  sync(services: readonly DesiredService[]): void {
    if (this.#stopped) return;
    this.#services = services;
    const wanted = wantedNodePorts(services);
    let changed = false;
    for (const [port, failed] of this.#unserved) {
      if (wanted.get(port)?.service !== failed.service) changed = this.#unserved.delete(port);
    }
    if (changed) this.options.onUnservedChange?.();
    for (const [port, listener] of this.#listeners) {
      if (!wanted.has(port)) this.#close(listener);
    }
    for (const [port, target] of wanted) {
      const current = this.#listeners.get(port);
      if (current) current.target = target; // same port, maybe another Service: read at each request
      else this.#open(port, target);
    }
  }

  /** The ports this node wants but could not bind, by port. */
  get unserved(): UnservedPort[] {
    return [...this.#unserved.values()].sort((a, b) => a.port - b.port);
  }

  get listeners(): NodePortListener[] {
    return [...this.#listeners.values()].map((l) => ({ ...l.target, nodePort: l.nodePort, listening: l.listening }));
  }

  /** Closes every port and its connections (agent shutdown). */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#retry?.cancel();
    const all = [...this.#listeners.values()];
    await Promise.all(all.map((l) => this.#close(l, true)));
  }

  #open(nodePort: number, target: NodePortTarget): void {
    const address = this.options.address;
    const authority = `${address.includes(':') ? `[${address}]` : address}:${nodePort}`;
    const http = createServer((req, res) => {
      if (listener.closed) res.setHeader('connection', 'close');
      const { service, port } = listener.target;
      const client = req.socket.remoteAddress ?? '';
      void proxyRequest(req, res, (request, timeoutMs) => {
        const desired = this.#service(service);
        if (!desired) return Promise.reject(new GatewayError(503, `service ${service} is gone`));
        return requestToService(this.options.network, desired, port, request, timeoutMs, { client, nodeIP: address });
      }, { clock: this.#clock, requestTimeoutMs: this.#requestTimeoutMs, maxBodyBytes: this.#maxBodyBytes, authority });
    });
    // half-open: a client's FIN reaches the guest as end of stream while its answer still flows back
    const server = createTcpServer({ allowHalfOpen: true }, (socket) => this.#connection(listener, socket));
    const listener: Listener = { nodePort, target, server, http, raw: new Set(), listening: false, closed: false };
    http.requestTimeout = this.#requestTimeoutMs;
    http.headersTimeout = Math.min(this.#requestTimeoutMs, 60_000);
    http.on('clientError', (_error, socket) => socket.destroy());
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (listener.listening) return;
      if (this.#listeners.get(nodePort) === listener) this.#listeners.delete(nodePort);
      this.options.logger?.warn({ port: nodePort, service: listener.target.service, err: error.message },
        `cannot serve ${listener.target.kind} port ${authority} of service ${listener.target.service}: ${error.code ?? error.message}; tried again in ${RETRY_MS / 1000} s`);
      const failed = { port: nodePort, service: listener.target.service, code: (error.code ?? error.message).slice(0, 64) };
      const before = this.#unserved.get(nodePort);
      this.#unserved.set(nodePort, failed);
      if (before?.service !== failed.service || before.code !== failed.code) this.options.onUnservedChange?.();
      this.#retry ??= this.#clock.setTimeout(() => {
        this.#retry = undefined;
        this.sync(this.#services);
      }, RETRY_MS);
    });
    this.#listeners.set(nodePort, listener);
    server.listen({ host: address, port: nodePort, exclusive: true }, () => {
      listener.listening = true;
      if (this.#unserved.delete(nodePort)) this.options.onUnservedChange?.();
      if (listener.closed) void this.#close(listener);
    });
  }

  /** Raw TCP when the Service's endpoints here are guest listeners, else HTTP. */
  #connection(listener: Listener, socket: Socket): void {
    socket.on('error', () => undefined);
    const desired = this.#service(listener.target.service);
    let stream;
    try {
      stream = desired && connectToService(this.options.network, desired, listener.target.port,
        { client: socket.remoteAddress ?? '', clientPort: socket.remotePort ?? 0, nodeIP: this.options.address });
    } catch {
      socket.resetAndDestroy(); // every endpoint refused: the client sees a refused connection
      return;
    }
    if (!stream) {
      // no endpoint here: a guest listener on another node takes it as raw TCP, else HTTP as before
      const remote = desired && connectToRemoteService(this.options.network, desired, listener.target.port,
        { client: socket.remoteAddress ?? '', nodeIP: this.options.address });
      if (!remote) return void listener.http.emit('connection', socket);
      remote.then((opened) => {
        if (socket.destroyed) return void opened?.destroy();
        if (opened) this.#splice(listener, socket, opened);
        else listener.http.emit('connection', socket);
      }, () => socket.resetAndDestroy());
      return;
    }
    this.#splice(listener, socket, stream);
  }

  /** Joins a client's socket to a pod's byte stream (half-close both ways, a reset as a reset). */
  #splice(listener: Listener, socket: Socket, stream: Duplex): void {
    listener.raw.add(socket);
    stream.on('error', () => socket.destroy());
    socket.on('close', () => {
      listener.raw.delete(socket);
      stream.destroy();
    });
    // a stream that ended cleanly lets pipe() flush and end the socket; destroying it here would drop the unsent tail
    stream.on('close', () => { if (!stream.readableEnded) socket.destroy(); });
    socket.pipe(stream);
    stream.pipe(socket);
  }

  #service(key: string): DesiredService | undefined {
    const slash = key.indexOf('/');
    return this.options.network.services.get(key.slice(0, slash), key.slice(slash + 1));
  }

  #close(listener: Listener, force = false): Promise<void> {
    listener.closed = true;
    if (this.#listeners.get(listener.nodePort) === listener) this.#listeners.delete(listener.nodePort);
    if (!listener.listening) return Promise.resolve();
    listener.listening = false;
    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    if (force) {
      listener.http.closeAllConnections();
      for (const socket of listener.raw) socket.destroy();
    }
    else listener.http.closeIdleConnections();
    return closed;
  }
}
