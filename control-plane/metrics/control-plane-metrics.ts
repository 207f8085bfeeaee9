// The control plane's Prometheus registry (prom-client): the observers handed to the API, store,
// work queues, scheduler and node channel, plus node counts and Node.js process metrics. One
// registry per control plane (never prom-client's global one), so several can share a process.
import { Gauge, Registry } from 'prom-client';
import { SKIFF_VERSION } from '../../api/version.js';
import type { Node } from '../../api/types/node.js';
import type { FlowControlObserver } from '../api/flow-control.js';
import type { ApiRequestObserver } from '../api/request-observer.js';
import type { WorkQueueObserver } from '../reconcile/work-queue.js';
import type { NodeChannelObserver } from '../node-channel/node-channel.js';
import type { BrokerThreadMemory } from '../broker/broker-worker-messages.js';
import type { SchedulerObserver } from '../scheduler/scheduler.js';
import type { StoreObserver } from '../store/observed-store.js';
import { createApiMetrics } from './api-metrics.js';
import { createFlowControlMetrics } from './flow-control-metrics.js';
import { createNodeChannelMetrics } from './node-channel-metrics.js';
import { createOciPullMetrics } from './oci-pull-metrics.js';
import type { OciPullObserver } from '../registry/oci/oci-puller.js';
import { registerNodeConditionMetrics } from './node-condition-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { createSchedulerMetrics } from './scheduler-metrics.js';
import { createStoreMetrics } from './store-metrics.js';
import { createWorkQueueMetrics } from './work-queue-metrics.js';

/** What GET /metrics serves. */
export interface MetricsExposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface ControlPlaneMetricsOptions {
  /** The store backend's name, a label of the store metrics (sqlite, etcd). */
  storeBackend: string;
  /** Node.js process metrics (CPU, memory, event loop, GC: process-metrics.ts). Default true. */
  processMetrics?: boolean;
}

export class ControlPlaneMetrics implements MetricsExposition {
  readonly registry = new Registry();
  readonly api: ApiRequestObserver;
  readonly flowControl: FlowControlObserver;
  readonly store: StoreObserver;
  readonly queues: WorkQueueObserver;
  readonly scheduler: SchedulerObserver;
  readonly channel: NodeChannelObserver;
  readonly oci: OciPullObserver;

  constructor(options: ControlPlaneMetricsOptions) {
    if (options.processMetrics !== false) registerProcessMetrics(this.registry);
    new Gauge({ name: 'skiff_build_info', help: 'Always 1; the version label says which skiff runs.', labelNames: ['version', 'component'], registers: [this.registry] })
      .set({ version: SKIFF_VERSION, component: 'control-plane' }, 1);
    this.api = createApiMetrics(this.registry);
    this.flowControl = createFlowControlMetrics(this.registry);
    this.store = createStoreMetrics(this.registry, options.storeBackend);
    this.queues = createWorkQueueMetrics(this.registry);
    this.scheduler = createSchedulerMetrics(this.registry);
    this.channel = createNodeChannelMetrics(this.registry);
    this.oci = createOciPullMetrics(this.registry);
  }

  /** Nodes by condition, counted at each scrape from `listNodes` (the watch cache). */
  countNodes(listNodes: () => Promise<readonly Node[]>): void {
    registerNodeConditionMetrics(this.registry, listNodes);
  }

  /** The embedded broker's thread (decision 069): how long its event loop was busy, and its memory, read at each scrape. */
  countBrokerThread(busyMs: () => number, memory?: () => Promise<BrokerThreadMemory | undefined>): void {
    if (memory) {
      new Gauge({
        name: 'skiff_mqtt_broker_thread_memory_bytes',
        // the worker isolate's own: retained messages' and queued packets' payloads are external (Buffers)
        help: 'Memory of the embedded MQTT broker thread\'s isolate, by kind (heap_used, heap_total, external, array_buffers).',
        labelNames: ['kind'],
        registers: [this.registry],
        async collect() {
          const m = await memory();
          if (!m) return; // no worker at this instant (restarting): the series keep their last values
          this.set({ kind: 'heap_used' }, m.heapUsedBytes);
          this.set({ kind: 'heap_total' }, m.heapTotalBytes);
          this.set({ kind: 'external' }, m.externalBytes);
          this.set({ kind: 'array_buffers' }, m.arrayBuffersBytes);
        },
      });
    }
    new Gauge({
      name: 'skiff_mqtt_broker_thread_busy_seconds_total',
      // event-loop utilization's active time: wall time out of the loop's idle wait, so CPU plus any wait for a core
      help: 'Seconds the embedded MQTT broker thread\'s event loop was busy (wall time, waits for a core included).',
      registers: [this.registry],
      collect() {
        this.set(busyMs() / 1000);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
