// The agent's Prometheus metrics: pods by phase, containers by state, per-container fuel, CPU time,
// memory and restarts, pod start latency, image pulls, MQTT reconnects, and the process's own
// memory and CPU. Served by the `metrics` rpc (GET /api/v1/nodes/NAME/proxy/metrics on the API)
// and by the optional --metrics-port listener (agent/metrics-server.ts).
//
// Footprint: prom-client's index loads its default process metrics, which pull in
// @opentelemetry/api (~11 MiB of RSS in all on an idle agent, a fifth of it). The agent loads only
// the four classes it uses from prom-client's lib/ (~0.4 MiB) and reports process figures itself.
import { createRequire } from 'node:module';
import type { Counter as CounterT, Gauge as GaugeT, Histogram as HistogramT, Registry as RegistryT } from 'prom-client';
import { SKIFF_VERSION } from '../api/version.js';
import type { PodStatus } from '../api/types/pod.js';
import type { RunningContainer } from '../runtime/pod-runtime.js';

const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof RegistryT;
const Counter = require('prom-client/lib/counter') as typeof CounterT;
const Gauge = require('prom-client/lib/gauge') as typeof GaugeT;
const Histogram = require('prom-client/lib/histogram') as typeof HistogramT;

/** One pod as the metrics see it (a PodWorker satisfies it). */
export interface ObservedPod {
  readonly pod: { metadata: { namespace?: string; name?: string } };
  status(): PodStatus;
  readonly runningContainers: ReadonlyArray<{ name: string; container: RunningContainer }>;
}

export interface AgentMetricsSources {
  pods(): Iterable<ObservedPod>;
  /** Fuel per CPU-second on this node, once known (turns fuel into CPU seconds). */
  fuelPerSecond(): number | undefined;
}

/** What the pod manager reports as pods start and images arrive. */
export interface PodObserver {
  /** A pod's containers started (or it ended) `durationMs` after the agent was given it. */
  podStarted(durationMs: number): void;
  /** An image was loaded: from the agent's cache, downloaded, or failed. */
  imagePulled(result: 'cached' | 'downloaded' | 'failed', durationMs: number, bytes: number): void;
}

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
const START_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const PULL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class AgentMetrics {
  readonly registry = new Registry();
  readonly pods: PodObserver;
  readonly #reconnects: CounterT;
  readonly #connected: GaugeT;
  #hasConnected = false;

  constructor(sources: AgentMetricsSources) {
    const registers = [this.registry];
    const labelNames = ['namespace', 'pod', 'container'] as const;
    new Gauge({ name: 'skiff_build_info', help: 'Always 1; the version label says which skiff runs.', labelNames: ['version', 'component'], registers })
      .set({ version: SKIFF_VERSION, component: 'agent' }, 1);
    new Gauge({
      name: 'skiff_agent_pods', help: 'Pods on this node by phase.', labelNames: ['phase'], registers,
      collect: function (this: GaugeT) {
        const counts = new Map<string, number>(PHASES.map((p) => [p, 0]));
        for (const pod of sources.pods()) {
          const phase = pod.status().phase ?? 'Pending';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
    // one collector fills all the per-container gauges from one pass over the pods; registered
    // first, since the registry serializes metrics in the order they were registered
    new Gauge({
      name: 'skiff_agent_containers', help: 'Containers on this node by state (running, waiting, terminated) and reason.',
      labelNames: ['state', 'reason'], registers,
      collect(this: GaugeT) {
        for (const g of [this, restarts, fuel, cpu, memory]) g.reset();
        const fuelPerSecond = sources.fuelPerSecond();
        for (const worker of sources.pods()) {
          const namespace = worker.pod.metadata.namespace ?? '';
          const pod = worker.pod.metadata.name ?? '';
          const status = worker.status();
          for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
            const [state, detail] = c.state.running ? ['running', undefined] : c.state.terminated ? ['terminated', c.state.terminated] : ['waiting', c.state.waiting];
            this.inc({ state, reason: detail?.reason ?? '' });
            restarts.set({ namespace, pod, container: c.name }, c.restartCount);
          }
          for (const { name, container } of worker.runningContainers) {
            const labels = { namespace, pod, container: name };
            const burnt = container.fuelConsumed?.();
            if (burnt !== undefined) {
              fuel.inc(labels, Number(burnt));
              if (fuelPerSecond) cpu.inc(labels, Number(burnt) / fuelPerSecond);
            }
            const bytes = container.memoryBytes?.();
            if (bytes !== undefined) memory.set(labels, bytes);
          }
        }
      },
    });
    const restarts = new Gauge({
      name: 'skiff_agent_container_restarts', help: 'Restarts of each container of the pods on this node (its restartCount).',
      labelNames, registers,
    });
    const fuel = new Counter({
      name: 'skiff_agent_container_fuel_consumed_total', help: 'Fuel (Wasm instructions, metered) the running instance of a container has burnt; resets when it restarts.',
      labelNames, registers,
    });
    const cpu = new Counter({
      name: 'skiff_agent_container_cpu_usage_seconds_total', help: 'CPU seconds the running instance of a metered container has used (its fuel over fuel per second); resets when it restarts.',
      labelNames, registers,
    });
    const memory = new Gauge({
      name: 'skiff_agent_container_memory_bytes', help: 'Linear memory of a metered container\'s running instance.',
      labelNames, registers,
    });
    const started = new Histogram({
      name: 'skiff_agent_pod_start_duration_seconds', help: 'From the agent receiving a pod to its containers running (or the pod ending).',
      buckets: START_BUCKETS, registers,
    });
    const pulls = new Histogram({
      name: 'skiff_agent_image_pull_duration_seconds', help: 'Time to get a component, by result (cached, downloaded, failed).',
      labelNames: ['result'], buckets: PULL_BUCKETS, registers,
    });
    const pulledBytes = new Counter({ name: 'skiff_agent_image_pull_bytes_total', help: 'Component bytes downloaded.', registers });
    this.pods = {
      podStarted: (durationMs) => started.observe(durationMs / 1000),
      imagePulled(result, durationMs, bytes) {
        pulls.observe({ result }, durationMs / 1000);
        if (result === 'downloaded') pulledBytes.inc(bytes);
      },
    };
    this.#reconnects = new Counter({ name: 'skiff_agent_mqtt_reconnects_total', help: 'MQTT sessions re-established after a lost connection.', registers });
    this.#connected = new Gauge({ name: 'skiff_agent_mqtt_connected', help: '1 while the agent is connected to the broker.', registers });
    registerProcessMetrics(this.registry);
  }

  /** Every (re)connect of the agent's channel. */
  connected(): void {
    if (this.#hasConnected) this.#reconnects.inc();
    this.#hasConnected = true;
    this.#connected.set(1);
  }

  disconnected(): void {
    this.#connected.set(0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The process figures Prometheus' node exporters and dashboards expect, from Node's own counters. */
function registerProcessMetrics(registry: RegistryT): void {
  const registers = [registry];
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch in seconds.', registers }).set(startSeconds);
  new Gauge({
    name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers,
    collect(this: GaugeT) { this.set(process.memoryUsage.rss()); },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', registers,
    collect(this: GaugeT) { this.set(process.memoryUsage().heapUsed); },
  });
  new Counter({
    name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers,
    collect(this: CounterT) {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
}
