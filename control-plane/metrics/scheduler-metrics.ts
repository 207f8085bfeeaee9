// Scheduler metrics with kube-scheduler's names: attempts by result, attempt latency, pending pods.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SchedulerObserver } from '../scheduler/scheduler.js';

const PROFILE = 'default-scheduler';
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createSchedulerMetrics(registry: Registry): SchedulerObserver {
  const attempts = new Counter({
    name: 'scheduler_schedule_attempts_total', help: 'Attempts to place a pod, by result (scheduled, unschedulable, error).',
    labelNames: ['result', 'profile'], registers: [registry],
  });
  const durations = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Time of one attempt to place a pod: filtering, scoring and binding.',
    labelNames: ['result', 'profile'], buckets: BUCKETS, registers: [registry],
  });
  const pending = new Gauge({
    name: 'scheduler_pending_pods', help: 'Pods waiting to be placed, by queue (unschedulable: no node fits yet; backoff: waiting out their back-off).',
    labelNames: ['queue'], registers: [registry],
  });
  for (const result of ['scheduled', 'unschedulable', 'error']) attempts.inc({ result, profile: PROFILE }, 0); // series exist from the start
  pending.set({ queue: 'unschedulable' }, 0);
  pending.set({ queue: 'backoff' }, 0);
  return {
    attempt(result, durationMs) {
      attempts.inc({ result, profile: PROFILE });
      durations.observe({ result, profile: PROFILE }, durationMs / 1000);
    },
    unschedulablePods: (count) => pending.set({ queue: 'unschedulable' }, count),
    backoffPods: (count) => pending.set({ queue: 'backoff' }, count),
  };
}
