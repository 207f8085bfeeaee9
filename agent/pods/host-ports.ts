// hostPort on the agent (the kubelet's portmap / kube-proxy part): a pod port that a container
// declares with `hostPort` is served on the node's network while an HTTP-handler container holds it
// in the pod. HostPorts is node-wide (it knows which pod has which host address and port); each
// pod's PodNetwork tells it, through a PodHostPorts observer, when a port opens and closes.
// - An HTTP handler takes the pod port: a node:http server listens on <hostIP>:<hostPort>
//   (the port's hostIP, else the agent's address) and forwards each request (host-port-proxy.ts).
// - The port closes (container stopped, restarting, pod removed): the server closes, so clients get
//   connection refused, as the kubelet's DNAT to a pod port nothing listens on gives; it reopens when
//   the container serves again.
// - Taken on the node (another pod here, or another process: EADDRINUSE): Warning HostPortInUse;
//   another listen failure: Warning FailedToStartHostPort. The pod keeps running; the next time the
//   port opens in the pod the agent tries again.
// - A raw TCP guest listener, or a UDP/SCTP hostPort: not carried (no data path to guest sockets),
//   Warning HostPortNotSupported.
import { createServer, type Server } from 'node:http';
import { systemClock, type Clock } from '../../api/clock.js';
import type { Container, Pod } from '../../api/types/pod.js';
import { DEFAULT_HOST_PORT_MAX_BODY_BYTES, DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, proxyRequest } from './host-port-proxy.js';
import type { HttpHandle, PodPortObserver, PortHolder } from './pod-network.js';

export interface HostPortsOptions {
  /** Where a hostPort listens when its port names no hostIP: the node's IP (`--node-ip`, 127.0.0.1 by default). */
  address: string;
  clock?: Clock;
  /** How long one request may take, handler included (default 30 s). */
  requestTimeoutMs?: number;
  /** Larger request bodies get 413 (default 1 MiB). */
  maxBodyBytes?: number;
}

export type HostPortEventSink = (type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;

/** One hostPort of a pod: `hostIP:hostPort` on the node to `containerPort` in the pod. */
export interface HostPortMapping {
  containerPort: number;
  hostIP: string;
  hostPort: number;
  container: string;
  fieldPath: string;
}

/** A host address and port the agent listens on now (or is starting to). */
export interface HostPortBinding {
  hostIP: string;
  hostPort: number;
  podUid: string;
  pod: string;
  containerPort: number;
  /** Set once the server listens. */
  listening: boolean;
}

interface Binding extends HostPortBinding {
  server: Server;
  /** The pod port closed (or the agent stops): the server must not serve on. */
  released: boolean;
  /** Resolves once the server holds the address no more (or never got it). */
  freed: Promise<void>;
  free(): void;
}

const WILDCARD = new Set(['', '0.0.0.0', '::']);

export class HostPorts {
  readonly #bound = new Map<string, Binding>();
  /** Per address: when its last server lets it go (the next one listens only then). */
  readonly #freeing = new Map<string, Promise<void>>();
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #maxBodyBytes: number;

  constructor(private readonly options: HostPortsOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_HOST_PORT_MAX_BODY_BYTES;
  }

  /** The observer of one pod's network: exposes the pod's hostPorts as their ports open and close. */
  forPod(pod: Pod, onEvent: HostPortEventSink): PodPortObserver {
    const uid = pod.metadata.uid!;
    const name = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
    const mappings = this.mappings(pod, onEvent);
    return {
      opened: (port, holder) => {
        for (const m of mappings.filter((x) => x.containerPort === port)) {
          if (holder.kind === 'http') this.#bind(uid, name, m, holder.handle, onEvent);
          else onEvent('Warning', 'HostPortNotSupported', `Host port ${this.#label(m)} is not exposed: port ${port}/TCP is a raw TCP listener of container ${holder.container}, and skiff carries only HTTP to wasi:http handler containers (no data path to guest sockets)`, m.fieldPath);
        }
      },
      closed: (port: number, _holder: PortHolder) => {
        for (const m of mappings.filter((x) => x.containerPort === port)) this.#unbind(uid, m);
      },
    };
  }

  /** The pod's TCP hostPorts (a Warning for each one of another protocol, which is not carried). */
  mappings(pod: Pod, onEvent?: HostPortEventSink): HostPortMapping[] {
    const out: HostPortMapping[] = [];
    const lists: Array<[string, Container[]]> = [['containers', pod.spec.containers], ['initContainers', pod.spec.initContainers ?? []]];
    for (const [list, containers] of lists) {
      for (const c of containers) {
        for (const p of c.ports ?? []) {
          if (!p.hostPort) continue;
          const fieldPath = `spec.${list}{${c.name}}`;
          const protocol = p.protocol ?? 'TCP';
          if (protocol !== 'TCP') {
            onEvent?.('Warning', 'HostPortNotSupported', `Host port ${p.hostPort}/${protocol} is not exposed: skiff exposes TCP host ports only`, fieldPath);
            continue;
          }
          const hostIP = (p as { hostIP?: string }).hostIP;
          out.push({ containerPort: p.containerPort, hostPort: p.hostPort, hostIP: hostIP || this.options.address, container: c.name, fieldPath });
        }
      }
    }
    return out;
  }

  /** What the agent listens on for pods now. */
  get bindings(): HostPortBinding[] {
    return [...this.#bound.values()].map(({ hostIP, hostPort, podUid, pod, containerPort, listening }) => ({ hostIP, hostPort, podUid, pod, containerPort, listening }));
  }

  /** Closes every server (agent shutdown): connections too. */
  async close(): Promise<void> {
    const all = [...this.#bound.values()];
    this.#bound.clear();
    await Promise.all(all.map((b) => this.#close(b, true)));
  }

  #bind(podUid: string, pod: string, m: HostPortMapping, handle: HttpHandle, onEvent: HostPortEventSink): void {
    const key = keyOf(m);
    const current = this.#bound.get(key) ?? this.#overlapping(m);
    const failed = (reason: string, detail: string) =>
      onEvent('Warning', reason, `Cannot expose port ${m.containerPort}/TCP of container ${m.container} on host port ${this.#label(m)}: ${detail}`, m.fieldPath);
    if (current) {
      if (current.podUid !== podUid || current.containerPort !== m.containerPort) {
        failed('HostPortInUse', `already in use by ${current.podUid === podUid ? `port ${current.containerPort}/TCP of this pod` : `pod ${current.pod}`}`);
      }
      return;
    }
    const authority = `${m.hostIP.includes(':') ? `[${m.hostIP}]` : m.hostIP}:${m.hostPort}`;
    let free = () => undefined as void;
    const freed = new Promise<void>((resolve) => (free = resolve));
    const server = createServer((req, res) => {
      if (binding.released) res.setHeader('connection', 'close');
      void proxyRequest(req, res, handle, { clock: this.#clock, requestTimeoutMs: this.#requestTimeoutMs, maxBodyBytes: this.#maxBodyBytes, authority });
    });
    const binding: Binding = { hostIP: m.hostIP, hostPort: m.hostPort, podUid, pod, containerPort: m.containerPort, listening: false, released: false, server, freed, free };
    // a slow client may not hold a connection longer than a request may take
    server.requestTimeout = this.#requestTimeoutMs;
    server.headersTimeout = Math.min(this.#requestTimeoutMs, 60_000);
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (binding.listening) return; // after listen, errors belong to single connections
      if (this.#bound.get(key) === binding) this.#bound.delete(key);
      binding.released = true;
      free();
      const listen = `listen tcp ${authority}`;
      if (error.code === 'EADDRINUSE') failed('HostPortInUse', `${listen}: bind: address already in use`);
      else failed('FailedToStartHostPort', `${listen}: ${error.code ?? 'error'}: ${error.message}`);
    });
    this.#bound.set(key, binding);
    // the last server of this address may still be starting (released meanwhile): it goes first
    const previous = this.#freeing.get(key);
    this.#freeing.set(key, freed);
    void freed.then(() => {
      if (this.#freeing.get(key) === freed) this.#freeing.delete(key);
    });
    void (previous ?? Promise.resolve()).then(() => {
      if (binding.released) return free();
      server.listen({ host: m.hostIP, port: m.hostPort, exclusive: true }, () => {
        binding.listening = true;
        if (binding.released) void this.#close(binding); // the pod port closed while it was starting
      });
    });
  }

  #unbind(podUid: string, m: HostPortMapping): void {
    const key = keyOf(m);
    const binding = this.#bound.get(key);
    if (!binding || binding.podUid !== podUid || binding.containerPort !== m.containerPort) return;
    this.#bound.delete(key);
    void this.#close(binding);
  }

  /** A listening server on the same port and a wildcard address (or the other way round): the OS would refuse it. */
  #overlapping(m: HostPortMapping): Binding | undefined {
    for (const b of this.#bound.values()) {
      if (b.hostPort === m.hostPort && (WILDCARD.has(b.hostIP) || WILDCARD.has(m.hostIP))) return b;
    }
    return undefined;
  }

  #close(binding: Binding, force = false): Promise<void> {
    binding.released = true;
    if (!binding.listening) return Promise.resolve(); // freed when its listen ends (or fails)
    binding.listening = false;
    const closed = new Promise<void>((resolve) => binding.server.close(() => resolve()));
    binding.free(); // close() lets the address go at once; connections may linger
    // idle keep-alive connections go now; requests in flight finish (their connection then closes)
    if (force) binding.server.closeAllConnections();
    else binding.server.closeIdleConnections();
    return closed;
  }

  #label(m: HostPortMapping): string {
    return `${m.hostIP}:${m.hostPort}`;
  }
}

const keyOf = (m: { hostIP: string; hostPort: number }) => `${m.hostIP}|${m.hostPort}`;
