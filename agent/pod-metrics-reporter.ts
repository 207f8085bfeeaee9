// Every window (15 s, on the injected clock) turns the fuel each metered container consumed since
// the last window into CPU millicores, and publishes one usage report for the whole node.
import { freemem, totalmem } from 'node:os';
import type { Clock, ClockTimer } from '../api/clock.js';
import type { NodeMetricsMessage } from '../api/mqtt/messages.js';
import type { RunningContainer } from '../runtime/pod-runtime.js';

type Envelope = 'v' | 'sessionId' | 'seq' | 'ts';
export type NodeMetricsReport = Omit<NodeMetricsMessage, Envelope>;

/** Kubernetes' metrics-server resolution: the HPA's sync period is the same. */
export const DEFAULT_METRICS_INTERVAL_MS = 15_000;

/** One pod as the reporter sees it (a PodWorker satisfies it). */
export interface MeteredPod {
  readonly pod: { metadata: { uid?: string; namespace?: string; name?: string } };
  readonly runningContainers: ReadonlyArray<{ name: string; container: RunningContainer }>;
}

export interface PodMetricsReporterOptions {
  clock: Clock;
  pods: () => Iterable<MeteredPod>;
  /** Fuel per CPU-second on this node (asked only once a container is metered); without it no pod has CPU. */
  fuelPerSecond: () => number | undefined;
  publish: (report: NodeMetricsReport) => void;
  intervalMs?: number;
  /** Used memory of the device (default: total - free). */
  nodeMemoryBytes?: () => number;
}

interface FuelSample { fuel: bigint; atMs: number }

export class PodMetricsReporter {
  /** The last fuel reading per container instance (its id changes with every restart). */
  readonly #samples = new Map<string, FuelSample>();
  readonly #intervalMs: number;
  #timer: ClockTimer | undefined;
  #lastTickMs: number | undefined;

  constructor(private readonly options: PodMetricsReporterOptions) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
  }

  start(): void {
    this.#lastTickMs = this.options.clock.now();
    this.#timer = this.options.clock.setInterval(() => this.tick(), this.#intervalMs);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Measures the window that just ended and publishes it (the timer calls this; tests may too). */
  tick(): void {
    const now = this.options.clock.now();
    const windowMs = Math.max(1, now - (this.#lastTickMs ?? now));
    this.#lastTickMs = now;
    let fuelPerSecond: number | undefined;
    const seen = new Set<string>();
    const pods: NodeMetricsReport['pods'] = [];
    let nodeCpuMillicores = 0;
    for (const worker of this.options.pods()) {
      const containers: NodeMetricsReport['pods'][number]['containers'] = [];
      for (const { name, container } of worker.runningContainers) {
        const fuel = container.fuelConsumed?.();
        if (fuel === undefined) continue; // not metered: no cpu request, limit or budget
        seen.add(container.id);
        const previous = this.#samples.get(container.id);
        this.#samples.set(container.id, { fuel, atMs: now });
        // a container first seen now reports from the next window: its baseline is unknown
        if (!previous || now <= previous.atMs) continue;
        fuelPerSecond ??= this.options.fuelPerSecond();
        if (!fuelPerSecond) continue;
        const cpuMillicores = cpuMillicoresOf(fuel - previous.fuel, fuelPerSecond, now - previous.atMs);
        nodeCpuMillicores += cpuMillicores;
        const memoryBytes = container.memoryBytes?.();
        containers.push({ name, cpuMillicores, ...(memoryBytes !== undefined ? { memoryBytes } : {}) });
      }
      const { uid, namespace, name } = worker.pod.metadata;
      if (containers.length > 0 && uid && namespace && name) pods.push({ uid, namespace, name, containers });
    }
    for (const id of [...this.#samples.keys()]) {
      if (!seen.has(id)) this.#samples.delete(id);
    }
    const nodeMemoryBytes = (this.options.nodeMemoryBytes ?? deviceUsedMemoryBytes)();
    this.options.publish({
      windowMs,
      usage: { cpuMillicores: roundMillicores(nodeCpuMillicores), memoryBytes: Math.max(0, Math.round(nodeMemoryBytes)) },
      pods,
    });
  }
}

/** Fuel burnt over `elapsedMs`, as thousandths of a core busy the whole time (to the nanocore). */
export function cpuMillicoresOf(fuelDelta: bigint, fuelPerSecond: number, elapsedMs: number): number {
  if (fuelDelta <= 0n || elapsedMs <= 0) return 0;
  return roundMillicores((Number(fuelDelta) / fuelPerSecond / (elapsedMs / 1000)) * 1000);
}

const roundMillicores = (millicores: number) => Math.round(millicores * 1e6) / 1e6;

const deviceUsedMemoryBytes = () => totalmem() - freemem();
