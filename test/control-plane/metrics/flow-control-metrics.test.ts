// The flow control's Prometheus series (apiserver_flowcontrol_*): seats, requests executing and
// waiting, dispatched and refused requests, and their waits, by priority level, read from a real
// prom-client registry while a burst holds every seat. Deterministic: handlers wait on a gate, time
// is a fake clock.
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ApiFlowControl } from '../../../control-plane/api/flow-control.js';
import { decodeRequestPath } from '../../../control-plane/api/request-path.js';
import { createFlowControlMetrics } from '../../../control-plane/metrics/flow-control-metrics.js';
import { FakeClock } from '../../support/fake-clock.js';

const settle = () => new Promise((r) => setImmediate(r));

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)!.get();
  const match = metric.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return match?.value;
}

describe('flow control metrics', () => {
  it('count seats, executing and waiting requests, dispatches, refusals and waits by priority level', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const flowControl = new ApiFlowControl(clock, { workload: { seats: 1, queueLengthPerFlow: 1, queueLengthTotal: 10, queueTimeoutMs: 5_000 } }, createFlowControlMetrics(registry));
    // each request that gets a seat holds it until its own gate opens
    const gates: Array<() => void> = [];
    const api = new Hono();
    api.use('*', decodeRequestPath);
    api.use('*', async (c, next) => {
      const [name, groups] = (c.req.header('x-user') ?? 'alice').split('|');
      c.set('user', { name: name!, groups: groups ? groups.split(',') : [] });
      await next();
    });
    api.use('*', flowControl.middleware());
    api.get('/healthz', (c) => c.text('ok'));
    api.post('/api/v1/namespaces/default/configmaps', async (c) => {
      await new Promise<void>((r) => gates.push(r));
      return c.json({}, 201);
    });
    const create = (user = 'alice') => api.request('/api/v1/namespaces/default/configmaps', { method: 'POST', headers: { 'x-user': user } });

    const first = create(); // holds the one seat
    await settle();
    const second = create(); // waits
    await settle();
    expect((await create()).status).toBe(429); // alice's queue (1) is full
    const bob = create('bob'); // waits, then times out
    await settle();
    expect((await api.request('/healthz')).status).toBe(200);

    expect(await value(registry, 'apiserver_flowcontrol_nominal_limit_seats', { priority_level: 'workload' })).toBe(1);
    expect(await value(registry, 'apiserver_flowcontrol_nominal_limit_seats', { priority_level: 'system' })).toBe(32);
    expect(await value(registry, 'apiserver_flowcontrol_current_executing_requests', { priority_level: 'workload' })).toBe(1);
    expect(await value(registry, 'apiserver_flowcontrol_current_inqueue_requests', { priority_level: 'workload' })).toBe(2);
    expect(await value(registry, 'apiserver_flowcontrol_current_inqueue_requests', { priority_level: 'system' })).toBe(0);
    expect(await value(registry, 'apiserver_flowcontrol_dispatched_requests_total', { priority_level: 'exempt' })).toBe(1);
    expect(await value(registry, 'apiserver_flowcontrol_rejected_requests_total', { priority_level: 'workload', reason: 'queue-full' })).toBe(1);

    clock.advance(3_000);
    gates.shift()!(); // the first finishes; alice's second (waited 3 s) gets the seat
    expect((await first).status).toBe(201);
    await settle();
    clock.advance(2_000); // bob waited 5 s behind it: refused
    expect((await bob).status).toBe(429);
    gates.shift()!();
    expect((await second).status).toBe(201);

    expect(await value(registry, 'apiserver_flowcontrol_dispatched_requests_total', { priority_level: 'workload' })).toBe(2);
    expect(await value(registry, 'apiserver_flowcontrol_rejected_requests_total', { priority_level: 'workload', reason: 'time-out' })).toBe(1);
    expect(await value(registry, 'apiserver_flowcontrol_current_executing_requests', { priority_level: 'workload' })).toBe(0);
    expect(await value(registry, 'apiserver_flowcontrol_current_inqueue_requests', { priority_level: 'workload' })).toBe(0);
    const waits = await registry.getSingleMetric('apiserver_flowcontrol_request_wait_duration_seconds')!.get();
    const sum = (execute: string) => waits.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum') && v.labels['execute'] === execute && v.labels['priority_level'] === 'workload')?.value;
    expect(sum('true')).toBe(3); // 0 s for the first, 3 s for the second
    expect(sum('false')).toBe(5); // 0 s for the refused-on-arrival one, 5 s for bob
  });
});
