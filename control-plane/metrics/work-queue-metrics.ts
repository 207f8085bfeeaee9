// Work queue metrics with kube-controller-manager's names (workqueue_*), labelled by queue name:
// every controller's queue, the scheduler's and the desired-state publisher's.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueObserver } from '../reconcile/work-queue.js';

/** Seconds, from 10 µs to 10 s. */
const BUCKETS = [0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10];

export function createWorkQueueMetrics(registry: Registry): WorkQueueObserver {
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in a work queue.', labelNames: ['name'], registers: [registry] });
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to a work queue.', labelNames: ['name'], registers: [registry] });
  const retries = new Counter({ name: 'workqueue_retries_total', help: 'Reconciles that failed and were queued again with back-off.', labelNames: ['name'], registers: [registry] });
  const waited = new Histogram({
    name: 'workqueue_queue_duration_seconds', help: 'How long a key waited in the queue before a worker took it.',
    labelNames: ['name'], buckets: BUCKETS, registers: [registry],
  });
  const worked = new Histogram({
    name: 'workqueue_work_duration_seconds', help: 'How long reconciling one key took.',
    labelNames: ['name'], buckets: BUCKETS, registers: [registry],
  });
  return {
    added: (name) => adds.inc({ name }),
    depth: (name, n) => depth.set({ name }, n),
    started: (name, waitedMs) => waited.observe({ name }, waitedMs / 1000),
    finished(name, durationMs, failed) {
      worked.observe({ name }, durationMs / 1000);
      if (failed) retries.inc({ name });
    },
  };
}
