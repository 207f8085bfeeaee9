// Pod CPU metrics for the HPA. Agents report each pod's CPU usage, measured from the fuel its
// instances consumed over the last window, over MQTT (control-plane/metrics/node-metrics-store.ts).
// The pod annotation `skiff.dev/cpu-usage-millicores` (a non-negative decimal number of millicores,
// e.g. "250") stands in for pods without a report (unmetered ones, tests, older agents).
import type { Pod } from '../../../api/types/pod.js';

export const CPU_USAGE_ANNOTATION = 'skiff.dev/cpu-usage-millicores';

export interface PodMetricsSource {
  /** CPU usage in millicores of those `pods` that have a sample, by pod name. */
  cpuUsageMillicores(pods: readonly Pod[]): Promise<Map<string, number>>;
}

/** Reads the samples agents write into pod annotations. */
export class AnnotationPodMetricsSource implements PodMetricsSource {
  async cpuUsageMillicores(pods: readonly Pod[]): Promise<Map<string, number>> {
    const usage = new Map<string, number>();
    for (const pod of pods) {
      const text = pod.metadata.annotations?.[CPU_USAGE_ANNOTATION];
      if (text === undefined || text.trim() === '') continue;
      const millicores = Number(text);
      if (Number.isFinite(millicores) && millicores >= 0) usage.set(pod.metadata.name!, millicores);
    }
    return usage;
  }
}

/** Samples from `primary` where it has one, else from `fallback`. */
export class FallbackPodMetricsSource implements PodMetricsSource {
  constructor(private readonly primary: PodMetricsSource, private readonly fallback: PodMetricsSource) {}

  async cpuUsageMillicores(pods: readonly Pod[]): Promise<Map<string, number>> {
    const usage = await this.primary.cpuUsageMillicores(pods);
    const missing = pods.filter((p) => !usage.has(p.metadata.name!));
    if (missing.length === 0) return usage;
    for (const [name, millicores] of await this.fallback.cpuUsageMillicores(missing)) usage.set(name, millicores);
    return usage;
  }
}
