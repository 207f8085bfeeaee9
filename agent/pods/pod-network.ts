// The pod's virtual network namespace, shared by all its containers as in Kubernetes: which TCP
// ports are open in the pod, and by whom. Ports are opened two ways:
// - guest listeners: every container instance of the pod (app, init, sidecar, exec-probe and
//   `kubectl exec` instances) gets a PodNetworkPorts view (`ports(owner, container)`) through
//   which the runtime reports the sockets the guest listens on (wasi:sockets) and closes;
// - HTTP-handler containers (RunningContainer.handleHttp): one listens on each TCP containerPort
//   it declares, or on 8080 when it declares none (the default port of `wasmtime serve`).
// A port has one holder: a second opener is refused with a Warning event (PortInUse) and the first
// keeps it. Everything a holder opened is released when its instance ends.
// Traffic stays in the process: a probe calls a handler in-process; a raw listener takes byte
// streams (its `accept`: ../network/pod-byte-stream.ts), not HTTP requests. The one
// way in from the node's network is a hostPort: an observer (host-ports.ts) is told as ports open
// and close, and serves a handler's port on the node.
import type { ContainerPort } from '../../api/types/pod.js';
import type { StreamAcceptor } from '../../runtime/net/byte-ring.js';
import { PodNetworkError, type HttpRequest, type HttpResponse, type PodNetworkPorts } from '../../runtime/pod-runtime.js';
import { PodUdpPorts } from './pod-udp-ports.js';

/** Where an HTTP-handler container listens when it declares no TCP containerPort. */
export const DEFAULT_HTTP_PORT = 8080;

export type HttpHandle = (request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>;

/** Who holds a TCP port of the pod. `owner` is the container instance id. */
export type PortHolder =
  | { kind: 'listener'; container: string; owner: string; accept?: StreamAcceptor }
  | { kind: 'http'; container: string; owner: string; handle: HttpHandle };

export interface PodNetworkOptions {
  /** The pod's IP (`status.podIP`) when it has one. */
  podIP(): string | undefined;
  onEvent?(type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
  /** Told when a port of the pod opens and closes (HostPorts: the pod's hostPorts). */
  observer?: PodPortObserver;
  /**
   * Carries the containers' outgoing wasi:http requests (the node's network, agent/network/);
   * absent: they are denied.
   */
  route?(request: HttpRequest, timeoutMs: number): Promise<HttpResponse>;
  /** Resolves a name in the pod's DNS (wasi:sockets/ip-name-lookup); absent: lookups fail. */
  resolve?(name: string): Promise<string[]>;
  /** Routes the containers' wasi:sockets TCP connects (the node's network); absent: they are denied. */
  connect?(host: string, port: number, localPort: number): Promise<StreamAcceptor>;
  /** Routes the containers' UDP datagrams (the node's network, udp-route.ts); absent: UDP is denied. */
  sendDatagram?(localPort: number, host: string, port: number, data: Uint8Array): void | Promise<void>;
  /** Milliseconds, for spacing out repeated failure events (default Date.now). */
  now?(): number;
}

/** The same failed-request event of a pod is emitted at most once in this many ms. */
export const REQUEST_FAILED_EVENT_INTERVAL_MS = 60_000;

/** Watches the pod's ports: `opened` when a holder takes a port, `closed` when it lets it go. */
export interface PodPortObserver {
  opened(port: number, holder: PortHolder): void;
  closed(port: number, holder: PortHolder): void;
}

export class PodNetwork {
  readonly #ports = new Map<number, PortHolder>();
  /** The pod's UDP ports (pod-udp-ports.ts). */
  readonly udp = new PodUdpPorts();
  /** When each failed-request event was last emitted. */
  readonly #failureEvents = new Map<string, number>();

  constructor(private readonly options: PodNetworkOptions) {}

  /** The pod's address as probes name it: its pod IP, else 127.0.0.1 (messages and authority only). */
  get host(): string {
    return this.options.podIP() ?? '127.0.0.1';
  }

  /** The pod's IP, if it has one. */
  get podIP(): string | undefined {
    return this.options.podIP();
  }

  /** The view the runtime reports one container instance's listening sockets through. */
  ports(owner: string, container: string, fieldPath?: string): PodNetworkPorts {
    return {
      // one namespace for all the pod's views: the runtime keeps guest binds exclusive within it
      namespace: this,
      listening: (port, protocol, accept) => {
        if (protocol === 'TCP') this.#open(port, { kind: 'listener', container, owner, ...(accept ? { accept } : {}) }, fieldPath);
      },
      closed: (port, protocol) => {
        const holder = this.#ports.get(port);
        if (protocol === 'TCP' && holder?.owner === owner) this.#close(port, holder);
      },
      ...(this.options.resolve ? { resolve: this.options.resolve } : {}),
      ...(this.options.connect ? { connect: this.options.connect } : {}),
      ...(this.options.sendDatagram ? {
        bindUdp: (port: number, receive: Parameters<PodUdpPorts['bind']>[3]) => this.udp.bind(owner, container, port, receive),
        unbindUdp: (port: number, receive: Parameters<PodUdpPorts['bind']>[3]) => this.udp.unbind(port, receive),
        sendDatagram: this.options.sendDatagram,
      } : {}),
      ...(this.options.route ? { httpRequest: (request: HttpRequest, { timeoutMs }: { timeoutMs: number }) => this.#request(container, fieldPath, request, timeoutMs) } : {}),
    };
  }

  /** A container's outgoing request: routed by the node; a failure is also a Warning event on the pod. */
  async #request(container: string, fieldPath: string | undefined, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    try {
      return await this.options.route!(request, timeoutMs);
    } catch (error) {
      const failure = error instanceof PodNetworkError ? error : new PodNetworkError('internal-error', (error as Error)?.message ?? String(error));
      const target = `${request.scheme}://${request.authority.slice(0, 300)}${request.pathWithQuery.split('?')[0]!.slice(0, 300)}`; // no query: it may carry secrets
      const message = `Container ${container}: ${request.method.slice(0, 20)} ${target} failed with ${failure.code}: ${failure.message}`;
      const now = this.options.now?.() ?? Date.now();
      const last = this.#failureEvents.get(message);
      if (last === undefined || now - last >= REQUEST_FAILED_EVENT_INTERVAL_MS) {
        if (this.#failureEvents.size > 100) this.#failureEvents.clear();
        this.#failureEvents.set(message, now);
        this.options.onEvent?.('Warning', 'RequestFailed', message, fieldPath);
      }
      throw failure;
    }
  }

  /**
   * An HTTP-handler container serves: it listens on its declared TCP containerPorts (8080 when it
   * declares none). Returns the ports it got.
   */
  serveHttp(owner: string, container: { name: string; ports?: ContainerPort[] }, handle: HttpHandle, fieldPath?: string): number[] {
    return handlerPorts(container).filter((port) => this.#open(port, { kind: 'http', container: container.name, owner, handle }, fieldPath));
  }

  /** Drops every port the instance `owner` holds (it ended). */
  release(owner: string): void {
    this.udp.release(owner);
    for (const [port, holder] of this.#ports) {
      if (holder.owner === owner) this.#close(port, holder);
    }
  }

  /** Who listens on TCP `port` in this pod, if anyone. */
  holder(port: number): PortHolder | undefined {
    return this.#ports.get(port);
  }

  /** The open TCP ports, ascending. */
  get openPorts(): number[] {
    return [...this.#ports.keys()].sort((a, b) => a - b);
  }

  #open(port: number, holder: PortHolder, fieldPath: string | undefined): boolean {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
    const current = this.#ports.get(port);
    if (current && current.owner !== holder.owner) {
      this.options.onEvent?.('Warning', 'PortInUse',
        `Container ${holder.container} cannot listen on port ${port}/TCP: already in use by container ${current.container}`, fieldPath);
      return false;
    }
    if (current) {
      // the same instance again (a new listener socket on the port): its connections go to the new one
      if (current.kind === 'listener' && holder.kind === 'listener' && holder.accept) current.accept = holder.accept;
      return true;
    }
    this.#ports.set(port, holder);
    this.options.observer?.opened(port, holder);
    return true;
  }

  #close(port: number, holder: PortHolder): void {
    this.#ports.delete(port);
    this.options.observer?.closed(port, holder);
  }
}

/** The TCP ports an HTTP-handler container listens on: its declared ones, else 8080. */
export function handlerPorts(container: { ports?: ContainerPort[] }): number[] {
  const declared = (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
  return declared.length > 0 ? [...new Set(declared)] : [DEFAULT_HTTP_PORT];
}
