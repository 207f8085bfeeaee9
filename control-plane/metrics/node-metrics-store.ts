// The latest usage agents reported, in memory (like metrics-server): one report per node replaces
// that node's previous one, and a sample older than two of its windows is gone. It is the HPA's
// PodMetricsSource and what the metrics.k8s.io API serves.
import type { Clock } from '../../api/clock.js';
import type { NodeMetricsMessage } from '../../api/mqtt/messages.js';
import type { Pod } from '../../api/types/pod.js';
import type { PodMetricsSource } from '../controllers/hpa/pod-metrics.js';

export interface Usage {
  cpuMillicores: number;
  memoryBytes?: number;
}

export interface Sample {
  /** When the control plane received the report (ms since epoch, its clock): the window's end. */
  timestampMs: number;
  windowMs: number;
}

export interface NodeUsageSample extends Sample {
  node: string;
  usage: Usage;
}

export interface PodUsageSample extends Sample {
  node: string;
  uid: string;
  namespace: string;
  name: string;
  containers: Array<{ name: string } & Usage>;
}

/** What the metrics API reads. */
export interface MetricsReader {
  node(name: string): NodeUsageSample | undefined;
  pod(uid: string): PodUsageSample | undefined;
}

/** Samples stay this many of their windows: one lost report (QoS 0) does not blank a pod. */
const WINDOWS_KEPT = 2;

export class NodeMetricsStore implements MetricsReader, PodMetricsSource {
  readonly #nodes = new Map<string, NodeUsageSample>();
  /** By pod uid: a pod name can come back as another pod. */
  readonly #pods = new Map<string, PodUsageSample>();

  constructor(private readonly clock: Clock) {}

  /** A node's report: its pods' samples replace the ones it sent before. */
  record(node: string, report: NodeMetricsMessage): void {
    const timestampMs = this.clock.now();
    const { windowMs } = report;
    for (const [uid, sample] of this.#pods) {
      if (sample.node === node) this.#pods.delete(uid);
    }
    this.#nodes.set(node, { node, timestampMs, windowMs, usage: report.usage });
    for (const p of report.pods) {
      this.#pods.set(p.uid, { node, timestampMs, windowMs, uid: p.uid, namespace: p.namespace, name: p.name, containers: p.containers });
    }
  }

  node(name: string): NodeUsageSample | undefined {
    return this.#fresh(this.#nodes, name);
  }

  pod(uid: string): PodUsageSample | undefined {
    return this.#fresh(this.#pods, uid);
  }

  /** The HPA's view: a pod's CPU is the sum of its containers', matched by uid. */
  async cpuUsageMillicores(pods: readonly Pod[]): Promise<Map<string, number>> {
    const usage = new Map<string, number>();
    for (const pod of pods) {
      const sample = pod.metadata.uid ? this.pod(pod.metadata.uid) : undefined;
      if (sample) usage.set(pod.metadata.name!, sample.containers.reduce((sum, c) => sum + c.cpuMillicores, 0));
    }
    return usage;
  }

  #fresh<S extends Sample>(samples: Map<string, S>, key: string): S | undefined {
    const sample = samples.get(key);
    if (!sample) return undefined;
    if (this.clock.now() - sample.timestampMs <= WINDOWS_KEPT * sample.windowMs) return sample;
    samples.delete(key);
    return undefined;
  }
}
