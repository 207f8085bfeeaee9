// The API flow control's metrics, with kube-apiserver's names (apiserver_flowcontrol_*), so APF
// dashboards and alerts (queueing, rejections, wait time by priority level) work unchanged. skiff
// has fixed priority levels and no FlowSchema objects (decision 057), so the series carry
// `priority_level` (exempt, system, workload) and no `flow_schema` label.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FlowControlObserver } from '../api/flow-control.js';

/** Seconds waited for a seat: nothing for most requests, up to the queue timeout (60 s) under a burst. */
const WAIT_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60];

export function createFlowControlMetrics(registry: Registry): FlowControlObserver {
  const registers = [registry];
  const nominal = new Gauge({ name: 'apiserver_flowcontrol_nominal_limit_seats', help: 'Seats of each priority level.', labelNames: ['priority_level'], registers });
  const states = new Map<string, () => { executing: number; waiting: number }>();
  const current = (name: string, help: string, read: (s: { executing: number; waiting: number }) => number) => new Gauge({
    name, help, labelNames: ['priority_level'], registers,
    collect() {
      for (const [level, state] of states) this.set({ priority_level: level }, read(state()));
    },
  });
  current('apiserver_flowcontrol_current_executing_requests', 'Requests holding a seat, by priority level.', (s) => s.executing);
  current('apiserver_flowcontrol_current_inqueue_requests', 'Requests waiting for a seat, by priority level.', (s) => s.waiting);
  const dispatched = new Counter({
    name: 'apiserver_flowcontrol_dispatched_requests_total', help: 'Requests let through, by priority level (exempt: probes, long-running requests, system:masters).',
    labelNames: ['priority_level'], registers,
  });
  const rejected = new Counter({
    name: 'apiserver_flowcontrol_rejected_requests_total', help: 'Requests refused with 429, by priority level and reason (queue-full, time-out).',
    labelNames: ['priority_level', 'reason'], registers,
  });
  const waits = new Histogram({
    name: 'apiserver_flowcontrol_request_wait_duration_seconds', help: 'Time requests waited for a seat, by priority level and whether they then executed.',
    labelNames: ['priority_level', 'execute'], buckets: WAIT_BUCKETS, registers,
  });
  return {
    level(name, seats, state) {
      nominal.set({ priority_level: name }, seats);
      states.set(name, state);
      return {
        dispatched(waitedMs) {
          dispatched.inc({ priority_level: name });
          waits.observe({ priority_level: name, execute: 'true' }, waitedMs / 1000);
        },
        rejected(why, waitedMs) {
          rejected.inc({ priority_level: name, reason: why });
          waits.observe({ priority_level: name, execute: 'false' }, waitedMs / 1000);
        },
      };
    },
    exempt: () => dispatched.inc({ priority_level: 'exempt' }),
  };
}
