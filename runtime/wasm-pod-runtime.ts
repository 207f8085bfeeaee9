// PodRuntime for WASI components: jco-transpiled, cached by digest, each container in its own
// worker thread from a warm pool, with memory limits applied to every core module. A command runs
// its wasi:cli/run once; an HTTP handler (wasi:http/incoming-handler, no wasi:cli/run) serves
// requests until stopped, reusing instances or a fresh one per request (http-handler-container.ts). Guests of a
// pod with a network may listen on its TCP ports (network/pod-port-space.ts).
import { createStdinPipeBuffer } from './stdin-pipe.js';
import { ComponentLoader, WasmComponent } from './component-loader.js';
import type { ComponentCache } from './component-cache.js';
import { EXIT_CODE_CANNOT_RUN, EXIT_CODE_OOM } from './container-exit.js';
import { measureFuelPerSecond } from './limits/fuel-calibration.js';
import { createPeriodBuffer, type FuelPolicy } from './limits/fuel-meter.js';
import { MemoryLimitError, pagesForBytes } from './limits/memory-cap.js';
import { createMemoryPool, MemoryPool } from './limits/memory-pool.js';
import { WASM_PAGE_BYTES } from './wasm-binary.js';
import {
  InvalidComponentError,
  type ContainerExit,
  type ContainerLimits,
  type ContainerSpec,
  type HttpRequest,
  type LoadedComponent,
  type PodRuntime,
  type RunningContainer,
} from './pod-runtime.js';
import { DEFAULT_IDLE_INSTANCE_MS, DEFAULT_MAX_REQUESTS_PER_INSTANCE, HttpHandlerContainer, type InstanceReuse } from './http-handler-container.js';
import { PortSpaces } from './network/pod-port-space.js';
import { WorkerContainer } from './worker-container.js';
import { checkCanonicalDirectory } from './wasi/filesystem-sandbox.js';
import { exportSignature } from './export-signature.js';
import { WorkerPool, type WorkerPoolStats } from './worker-pool.js';
import { createControlBuffer, type GuestRunRequest } from './worker/guest-messages.js';
import { createUsageBuffer } from './limits/usage-block.js';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { NetRelay } from './net/net-relay.js';

const DEFAULT_CPU_PERIOD_MS = 100;

export interface WasmPodRuntimeOptions {
  /** Directory for transpiled components; without it they are cached in memory only. */
  cacheDir?: string;
  /** Started, idle workers kept ready for fast container starts (default 2). */
  warmWorkers?: number;
  /** Bound of the in-memory component caches (default 256 MiB). */
  memoryCacheBytes?: number;
  /** This node's fuel per CPU-second (see measureFuelPerSecond); measured on first need if absent. */
  fuelPerSecond?: number;
  /** CFS-like period for cpu limits (default 100 ms). */
  cpuPeriodMs?: number;
  /**
   * What all guests' linear memories may hold together (the agent's allocatable memory): a grow
   * past it fails (-1) in the guest that asked, whatever its own limit. None: no node-wide bound.
   */
  memoryCeilingBytes?: number;
  /** Transpiler and component caches shared with the other runtimes of this process (not closed by this one). */
  componentCache?: ComponentCache;
  /** HTTP handler instance reuse (decision 053): requests per instance, idle expiry. */
  handlerReuse?: Partial<InstanceReuse>;
}

export class WasmPodRuntime implements PodRuntime {
  readonly #loader: ComponentLoader;
  readonly #pool: WorkerPool;
  readonly #running = new Set<RunningContainer>();
  #fuelPerSecond: number | undefined;
  readonly #cpuPeriodMs: number;
  readonly #portSpaces = new PortSpaces();
  readonly #memoryPool: SharedArrayBuffer | undefined;
  readonly #reuse: InstanceReuse;

  constructor(options: WasmPodRuntimeOptions = {}) {
    this.#reuse = {
      maxRequests: options.handlerReuse?.maxRequests ?? DEFAULT_MAX_REQUESTS_PER_INSTANCE,
      idleMs: options.handlerReuse?.idleMs ?? DEFAULT_IDLE_INSTANCE_MS,
    };
    this.#memoryPool = options.memoryCeilingBytes === undefined ? undefined : createMemoryPool(options.memoryCeilingBytes);
    this.#fuelPerSecond = options.fuelPerSecond;
    this.#cpuPeriodMs = options.cpuPeriodMs ?? DEFAULT_CPU_PERIOD_MS;
    this.#loader = new ComponentLoader({
      cacheDir: options.cacheDir, memoryCacheBytes: options.memoryCacheBytes, ...(options.componentCache ? { cache: options.componentCache } : {}),
    });
    this.#pool = new WorkerPool(options.warmWorkers ?? 2);
  }

  load(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<LoadedComponent> {
    return this.#loader.load(digest, fetchBytes);
  }

  async start(spec: ContainerSpec): Promise<RunningContainer> {
    const component = spec.component;
    if (!(component instanceof WasmComponent)) {
      throw new InvalidComponentError(`component ${component.digest} was not loaded by this runtime`);
    }
    for (const preopen of spec.preopens ?? []) checkCanonicalDirectory(preopen.hostPath);
    const memoryBytes = spec.limits?.memoryBytes;
    const memoryMaxPages = memoryBytes === undefined ? undefined : pagesForBytes(memoryBytes);
    const fuel = this.#fuelPolicy(spec.limits);
    const accountMemory = memoryMaxPages !== undefined || this.#memoryPool !== undefined;
    const memory = accountMemory ? {
      ...(memoryMaxPages !== undefined ? { limitPages: memoryMaxPages } : {}),
      ...(this.#memoryPool ? { pool: this.#memoryPool } : {}),
      minPages: component.memoryMinPages,
    } : undefined;
    let modules: Record<string, WebAssembly.Module>;
    try {
      modules = await this.#loader.modules(component, { memoryMaxPages, accountMemory, metered: fuel !== undefined });
    } catch (error) {
      if (error instanceof MemoryLimitError) return endedAtStart(spec.id, EXIT_CODE_OOM, 'OOMKilled', error.message);
      throw error;
    }
    const { command, httpHandler } = component.exports;
    const invoke = spec.invoke && this.#invocation(component, spec.invoke);
    if (typeof invoke === 'string') return endedAtStart(spec.id, EXIT_CODE_CANNOT_RUN, 'Error', invoke);
    if (!command && !httpHandler && !invoke) {
      return endedAtStart(spec.id, EXIT_CODE_CANNOT_RUN, 'Error', 'the component exports neither wasi:cli/run nor wasi:http/incoming-handler');
    }
    const space = spec.network ? this.#portSpaces.of(spec.network) : undefined;
    const period = fuel?.quotaPerPeriod === undefined ? undefined : createPeriodBuffer();
    const prepare = (http?: HttpRequest) => {
      const lease = spec.network ? space?.lease(spec.network) : undefined;
      const channel = spec.network ? new MessageChannel() : undefined;
      const request: GuestRunRequest = {
        type: 'run',
        source: component.transpiled.source,
        ...(component.transpiled.preview1 ? { preview1: true } : {}),
        sourceKey: component.digest,
        modules,
        args: spec.args,
        env: spec.env,
        stdin: spec.stdin ?? new Uint8Array(),
        ...(spec.interactiveStdin && !http ? { stdinPipe: createStdinPipeBuffer() } : {}),
        preopens: spec.preopens ?? [],
        control: createControlBuffer(),
        fuel,
        ...(memory ? { memory } : {}),
        ...(invoke ? { invoke } : {}),
        ...(fuel ? { usage: createUsageBuffer() } : {}),
        ...(period ? { period } : {}),
        ...(lease ? { ports: lease.bitmap } : {}),
        ...(http ? { http } : {}),
        ...(channel ? { net: channel.port2 } : {}),
      };
      const net = channel && spec.network ? new NetRelay(channel.port1, spec.network) : undefined;
      if (lease && net) lease.acceptor = (port) => net.acceptor(port);
      return { request, ...(lease ? { ports: lease } : {}), ...(net ? { net } : {}) };
    };
    const release = (worker: Worker) => this.#pool.release(worker);
    let container: RunningContainer;
    if (command || invoke) {
      // a component that is both runs as a command, as wasmtime run does
      const { request, ports, net } = prepare();
      container = new WorkerContainer(spec, await this.#pool.acquire(), request, release, ports, net);
    } else {
      container = new HttpHandlerContainer(spec, {
        acquire: () => this.#pool.acquire(), release, prepare, metered: fuel !== undefined,
        ...(reuseHandlerInstances(spec, component) ? { reuse: this.#reuse } : {}),
      });
    }
    this.#running.add(container);
    void container.exited.then(() => this.#running.delete(container));
    return container;
  }

  /** What the worker needs to invoke an export; a string says why it cannot be. */
  #invocation(component: WasmComponent, invoke: { name: string; args: string[] }): GuestRunRequest['invoke'] | string {
    if (!component.transpiled.preview1) return invoke;
    const bytes = Object.values(component.transpiled.coreModules)[0];
    const signature = bytes && exportSignature(bytes, invoke.name);
    return signature ? { ...invoke, signature } : `failed to find export function \`${invoke.name}\``;
  }

  /** Guest workers started and reused so far. */
  get workerStats(): WorkerPoolStats {
    return this.#pool.stats;
  }

  /** Idle guest workers kept started from now on (the agent keeps none while it has no pods). */
  setWarmWorkers(count: number): void {
    this.#pool.resize(count);
  }

  /** Bytes of linear memory all guests hold now, and the node-wide ceiling (memoryCeilingBytes). */
  get memoryPool(): { usedBytes: number; ceilingBytes: number } | undefined {
    if (!this.#memoryPool) return undefined;
    const pool = new MemoryPool(this.#memoryPool);
    return { usedBytes: pool.reservedPages * WASM_PAGE_BYTES, ceilingBytes: pool.capacityPages * WASM_PAGE_BYTES };
  }

  /** Fuel per CPU-second used for cpu limits (measured once, ~0.3 s, unless given). */
  get fuelPerSecond(): number {
    return (this.#fuelPerSecond ??= measureFuelPerSecond());
  }

  #fuelPolicy(limits: ContainerLimits | undefined): FuelPolicy | undefined {
    if (limits?.fuel === undefined && limits?.cpuMillis === undefined && !limits?.measureCpu) return undefined;
    const quotaPerPeriod =
      limits.cpuMillis === undefined
        ? undefined
        : BigInt(Math.max(1, Math.round((this.fuelPerSecond * limits.cpuMillis * this.#cpuPeriodMs) / 1_000_000)));
    return { budget: limits.fuel, quotaPerPeriod, periodMs: this.#cpuPeriodMs };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running].map((c) => c.stop(0)));
    await Promise.all([this.#pool.close(), this.#loader.close()]);
  }
}

/** The pod's choice (`skiff.dev/handler-instances`), else reuse unless the component cannot serve twice. */
function reuseHandlerInstances(spec: ContainerSpec, component: WasmComponent): boolean {
  if (spec.handlerInstances) return spec.handlerInstances === 'reuse';
  return !component.handlerReuseUnsupported;
}

/** A container that ended before a worker was needed (its limits or shape rule it out). */
function endedAtStart(id: string, exitCode: number, reason: ContainerExit['reason'], message: string): RunningContainer {
  const now = new Date();
  const exit: ContainerExit = { exitCode, reason, message, startedAt: now, finishedAt: now };
  const exited = Promise.resolve(exit);
  return { id, startedAt: now, exited, stop: () => exited };
}
