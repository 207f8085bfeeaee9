// The fleet bench's workload, sampled along the way (issue 13): every period, pods Running so far,
// pods/s over the last period and since the start, and the control plane's memory: its RSS (the
// process: main thread, broker thread, SQLite), the main thread's V8 heap (prom-client's
// nodejs_heap_size_used_bytes) and the broker thread's heap and external memory
// (skiff_mqtt_broker_thread_memory_bytes: retained messages and queued packets are Buffers there).
// A run stopped at its deadline still says how its rate and memory went.
import { loadavg } from 'node:os';

export interface ProgressSample {
  atS: number;
  running: number;
  podsPerSecondLast: number;
  podsPerSecondSoFar: number;
  rssMB: number;
  mainHeapUsedMB?: number;
  brokerHeapUsedMB?: number;
  brokerExternalMB?: number;
  loadAverage: number;
}

/** A gauge's value in a Prometheus text exposition (`name` with optional `{labels}` as written), NaN when absent. */
export function gaugeValue(exposition: string, name: string, labels = ''): number {
  const escaped = `${name}${labels}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition);
  return match ? Number(match[1]) : NaN;
}

const mb = (bytes: number) => (Number.isFinite(bytes) ? Math.round(bytes / 2 ** 20) : undefined);

export interface ProgressOptions {
  periodMs: number;
  running: () => number;
  rssMB: () => Promise<number>;
  /** GET /metrics of the control plane (undefined when it did not answer). */
  metrics: () => Promise<string | undefined>;
  /** Each sample as it is taken (the bench prints it). */
  onSample: (sample: ProgressSample) => void;
}

export function sampleProgress(o: ProgressOptions): { stop(): ProgressSample[] } {
  const samples: ProgressSample[] = [];
  const started = performance.now();
  let last = { at: started, running: o.running() };
  let busy = false;
  const take = async () => {
    if (busy) return; // a scrape slower than the period: skip, do not pile up
    busy = true;
    try {
      const exposition = await o.metrics().catch(() => undefined) ?? '';
      const now = performance.now();
      const running = o.running();
      const sample: ProgressSample = {
        atS: Math.round((now - started) / 100) / 10,
        running,
        podsPerSecondLast: Math.round(((running - last.running) * 1000) / (now - last.at)),
        podsPerSecondSoFar: Math.round((running * 1000) / (now - started)),
        rssMB: await o.rssMB(),
        mainHeapUsedMB: mb(gaugeValue(exposition, 'nodejs_heap_size_used_bytes')),
        brokerHeapUsedMB: mb(gaugeValue(exposition, 'skiff_mqtt_broker_thread_memory_bytes', '{kind="heap_used"}')),
        brokerExternalMB: mb(gaugeValue(exposition, 'skiff_mqtt_broker_thread_memory_bytes', '{kind="external"}')),
        loadAverage: Number(loadavg()[0]!.toFixed(1)),
      };
      last = { at: now, running };
      samples.push(sample);
      o.onSample(sample);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void take(), o.periodMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}
