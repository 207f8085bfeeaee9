// Node.js process metrics (prom-client's defaults: CPU, memory, heap, GC, event-loop delay), less
// the ones whose scrape holds the event loop for time that grows with the fleet. prom-client counts
// open file descriptors with a synchronous readdir of /proc/self/fd and active handles/resources by
// walking every libuv handle on the main thread: with thousands of agents' sockets one scrape held
// the control plane's loop for tens of ms (44 ms for process_open_fds alone at 8,000 fds), every
// scrape, in front of every API request (docs/benchmarks.md, "API p99 during the fleet workload").
// process_open_fds is kept, counted by an asynchronous readdir (the libuv thread pool walks the
// directory); the per-handle gauges are left out (the sockets are counted by process_open_fds).
import { readdir } from 'node:fs/promises';
import { collectDefaultMetrics, Gauge, Registry, type Metric } from 'prom-client';

/** Default metrics whose collection is O(open handles) on the event loop. */
export const LOOP_BOUND_DEFAULT_METRICS: ReadonlySet<string> = new Set([
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
]);

export function registerProcessMetrics(registry: Registry): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  for (const metric of defaults.getMetricsAsArray()) {
    // the objects are the metrics themselves (prom-client types them as their description only)
    if (!LOOP_BOUND_DEFAULT_METRICS.has(metric.name)) registry.registerMetric(metric as unknown as Metric);
  }
  if (process.platform !== 'linux') return;
  new Gauge({
    name: 'process_open_fds', help: 'Number of open file descriptors.', registers: [registry],
    async collect() {
      try {
        // the directory's own descriptor is open while it is read: not counted
        this.set((await readdir('/proc/self/fd')).length - 1);
      } catch {
        // no /proc: the series stays at its last value
      }
    },
  });
}
