// Store metrics: the latency of every call to the backend (SQLite or etcd), under the watch cache.
import { Histogram, type Registry } from 'prom-client';
import type { StoreObserver } from '../store/observed-store.js';

/** Seconds: a SQLite read takes tens of microseconds, an fsynced etcd write milliseconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createStoreMetrics(registry: Registry, backend: string): StoreObserver {
  const durations = new Histogram({
    name: 'skiff_store_request_duration_seconds', help: 'Time of one call to the store backend, by backend, operation and result (ok, error).',
    labelNames: ['backend', 'operation', 'result'], buckets: BUCKETS, registers: [registry],
  });
  return {
    request: (operation, durationMs, ok) => durations.observe({ backend, operation, result: ok ? 'ok' : 'error' }, durationMs / 1000),
  };
}
