// PodRuntime: turns components into running, limited containers. The agent depends only on this
// interface; wasm-pod-runtime.ts implements it with jco-transpiled components in worker threads.
// Every implementation passes test/contracts/runtime.contract.ts.
import type { DatagramReceiver } from './net/udp-messages.js';
import type { StreamAcceptor } from './net/byte-ring.js';

/** A component ready to instantiate (transpiled and compiled), identified by sha256 digest. */
export interface LoadedComponent {
  readonly digest: string;
  /** What the component can be started as: a command (wasi:cli/run) and/or an HTTP handler. */
  readonly exports?: { readonly command: boolean; readonly httpHandler: boolean };
}

export interface Preopen {
  /**
   * An absolute, canonical directory path (no symlink in any component: resolve and check it
   * first, as the agent does for volumes). start() throws PreopenError for any other; the runtime
   * pins the directory when the guest starts, so later renames of its ancestors cannot move it.
   */
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
}

export interface ContainerLimits {
  /** Cap on every linear memory (resources.limits.memory). */
  memoryBytes?: number;
  /** CPU quota in millicores (resources.limits.cpu). */
  cpuMillis?: number;
  /** Hard fuel budget: the container ends with FuelExhausted when spent. */
  fuel?: bigint;
  /** Meter fuel without any quota, so CPU use can be measured (resources.requests.cpu). */
  measureCpu?: boolean;
}

export interface ContainerSpec {
  /** Unique per instance, e.g. `${podUid}/${containerName}/${restartCount}`. */
  id: string;
  component: LoadedComponent;
  /** argv, including argv[0]. */
  args: string[];
  env: Array<[string, string]>;
  limits?: ContainerLimits;
  preopens?: Preopen[];
  /** Bytes given to the guest's stdin (then EOF). Default: empty. */
  stdin?: Uint8Array;
  /**
   * Interactive stdin instead: the guest's reads block until bytes come through
   * RunningContainer.stdin (what a client types), and see EOF once that is ended.
   */
  interactiveStdin?: boolean;
  /** Every chunk the guest writes, as it is written. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void;
  /**
   * Call an exported function instead of running the command (`skiff run --invoke`, as wasmtime's):
   * a core module's export with `args` parsed by its parameter types (after `_initialize` when it
   * is a reactor), or a component's function, `name` being a WAVE call `fn(arg, ...)` or a name
   * with `args` as WAVE values. The results end up in ContainerExit.results.
   */
  invoke?: { name: string; args: string[] };
  /**
   * An HTTP handler's instances (decision 053): `reuse` (default) keeps an instance to serve request
   * after request, its memory surviving like a long-lived process's; `fresh` starts one per request.
   */
  handlerInstances?: 'fresh' | 'reuse';
  /**
   * The pod's virtual network namespace, shared by its containers: the runtime reports the
   * sockets a guest listens on (wasi:sockets tcp listen) so probes and peers can find them.
   */
  network?: PodNetworkPorts;
}

/** What the runtime tells the pod's network about a container's listening sockets. */
export interface PodNetworkPorts {
  /**
   * Identifies the pod's network namespace when the agent hands each container its own
   * PodNetworkPorts view: ports are exclusive among guests with the same namespace (a second
   * bind gets address-in-use). Default: the PodNetworkPorts object itself.
   */
  readonly namespace?: object;
  /**
   * The guest started listening on `port` (tcp); `accept` hands it a connection (the far end of a
   * byte stream, net/byte-ring.ts) while it listens.
   */
  listening(port: number, protocol: 'TCP', accept?: StreamAcceptor): void;
  /** The guest's listener on `port` closed (socket dropped, or the guest ended). */
  closed(port: number, protocol: 'TCP'): void;
  /**
   * Carries an outgoing wasi:http request of this container (outgoing-handler.handle) through the
   * pod network. Rejects with PodNetworkError for what the guest sees as a wasi:http error-code.
   * Absent: outgoing requests are denied (HTTP-request-denied).
   */
  httpRequest?(request: HttpRequest, options: { timeoutMs: number }): Promise<HttpResponse>;
  /**
   * The IP addresses (text) a name has in the pod's DNS, for wasi:sockets/ip-name-lookup. Rejects
   * with PodNetworkError('DNS-error') for an unknown name. Absent: lookups fail.
   */
  resolve?(name: string): Promise<string[]>;
  /**
   * Routes a guest's TCP connect to `host` (an IP literal) and `port` as the pod network would:
   * the acceptor of whoever listens there. Rejects with PodNetworkError (`connection-refused` when
   * nothing listens, ...). Absent: connects are denied.
   */
  connect?(host: string, port: number, localPort: number): Promise<StreamAcceptor>;
  /**
   * Binds UDP `port` of the pod (0: a free ephemeral one) for a guest's socket (wasi:sockets/udp,
   * decision 054); `receive` takes the datagrams sent to it. The port bound, or 'address-in-use'.
   * Absent: UDP is denied.
   */
  bindUdp?(port: number, receive: DatagramReceiver): number | 'address-in-use';
  /** The guest's socket on UDP `port` is gone. */
  unbindUdp?(port: number, receive: DatagramReceiver): void;
  /**
   * Routes one datagram from the guest's UDP port `localPort` to `host` (an IP literal):`port`.
   * Throws (or rejects with) PodNetworkError when the pod network refuses it; a datagram that is
   * lost further on (a full queue, a peer node) is dropped silently, as UDP does.
   */
  sendDatagram?(localPort: number, host: string, port: number, data: Uint8Array): void | Promise<void>;
}

/** The wasi:http error-code cases the pod network answers with (no payload, or a message). */
export type PodNetworkErrorCode =
  | 'DNS-error'
  | 'destination-not-found'
  | 'destination-unavailable'
  | 'destination-IP-prohibited'
  | 'destination-IP-unroutable'
  | 'connection-refused'
  | 'connection-timeout'
  | 'TLS-protocol-error'
  | 'TLS-certificate-error'
  | 'HTTP-protocol-error'
  | 'connection-terminated'
  | 'connection-limit-reached'
  | 'HTTP-request-denied'
  | 'HTTP-request-URI-invalid'
  | 'HTTP-request-body-size'
  | 'HTTP-response-incomplete'
  | 'HTTP-response-timeout'
  | 'loop-detected'
  | 'internal-error';

/** Why an outgoing request of a guest failed, as the wasi:http error-code it gets. */
export class PodNetworkError extends Error {
  override readonly name = 'PodNetworkError';
  constructor(
    readonly code: PodNetworkErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One HTTP request given to a container's wasi:http/incoming-handler. */
export interface HttpRequest {
  method: string;
  /** Path and query, e.g. `/healthz?verbose=1`. */
  pathWithQuery: string;
  scheme: 'http' | 'https';
  /** Host[:port] the request is addressed to. */
  authority: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export type ExitReason = 'Completed' | 'Error' | 'OOMKilled' | 'FuelExhausted' | 'Killed';

export interface ContainerExit {
  exitCode: number;
  reason: ExitReason;
  /** Trap message or limit explanation, one line. */
  message?: string;
  /** The guest trapped: the trap, in wasmtime's words ("wasm trap: ..."), whatever the reason says. */
  trap?: string;
  /** The guest exited by itself with this code (reported as `exitCode` unless a limit explains it). */
  guestExitCode?: number;
  /** What an invoked function returned (ContainerSpec.invoke), one value per line as wasmtime prints them. */
  results?: string[];
  startedAt: Date;
  finishedAt: Date;
}

/** The writing end of a container's interactive stdin (ContainerSpec.interactiveStdin). */
export interface ContainerStdin {
  /** Never blocks; false when the bytes were dropped (input ended, or the guest is far behind). */
  write(bytes: Uint8Array): boolean;
  /** End of input: the guest reads the rest, then EOF. */
  end(): void;
}

export interface RunningContainer {
  readonly id: string;
  /** Present when started with interactiveStdin (commands only, not HTTP handlers). */
  readonly stdin?: ContainerStdin;
  readonly startedAt: Date;
  /** Settles when the guest ends, whatever the reason (never rejects). */
  readonly exited: Promise<ContainerExit>;
  /** Stops the guest: asks it to end, and terminates it after `gracePeriodMs`. */
  stop(gracePeriodMs: number): Promise<ContainerExit>;
  /** Fuel the guest has consumed so far; undefined when it is not metered (no cpu limit, request or fuel). */
  fuelConsumed?(): bigint | undefined;
  /** Bytes of the guest's linear memories, where known (metered guests). */
  memoryBytes?(): number | undefined;
  /**
   * Present when the container is an HTTP handler (the component exports
   * wasi:http/incoming-handler and not wasi:cli/run): each request runs the handler in a fresh
   * instance under the container's limits, as `wasmtime serve` does. Rejects with
   * HttpHandlerError when the guest traps or sets no response before `timeoutMs`.
   * WasmPodRuntime runs up to 4 requests of a container at once and queues the rest (`timeoutMs`
   * counts from the call, queueing included); a failed request does not end the container. Such a
   * container serves until stop(): in-flight requests may finish within the grace period (exit 0,
   * Completed); any still running then are terminated (exit 137, Killed).
   */
  handleHttp?(request: HttpRequest, timeoutMs: number): Promise<HttpResponse>;
}

export interface PodRuntime {
  /** Transpiles (or takes from cache) a component. Throws InvalidComponentError for bad bytes. */
  load(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<LoadedComponent>;
  start(spec: ContainerSpec): Promise<RunningContainer>;
  /** Fuel per CPU-second on this node, to turn fuel consumed into CPU time (metering runtimes). */
  readonly fuelPerSecond?: number;
  close(): Promise<void>;
}

export class InvalidComponentError extends Error {
  override readonly name = 'InvalidComponentError';
}

export class HttpHandlerError extends Error {
  override readonly name = 'HttpHandlerError';
  /** The request never reached the guest (the container was stopping): safe to send elsewhere. */
  readonly notDelivered: boolean;
  constructor(message: string, options: { notDelivered?: boolean } = {}) {
    super(message);
    this.notDelivered = options.notDelivered ?? false;
  }
}

/** A preopen is not an absolute canonical directory path, or moved while the guest started. */
export class PreopenError extends Error {
  override readonly name = 'PreopenError';
}

export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
}
