import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../control-plane/reconcile/work-queue.js';
import { ControlPlaneMetrics } from '../../../control-plane/metrics/control-plane-metrics.js';
import { ObservedStore } from '../../../control-plane/store/observed-store.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { Node } from '../../../api/types/node.js';
import { FakeClock } from '../../support/fake-clock.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

const logger = pino({ level: 'silent' });
const newMetrics = () => new ControlPlaneMetrics({ storeBackend: 'sqlite', processMetrics: false });
const scrape = async (m: ControlPlaneMetrics) => parsePrometheusText(await m.metrics());

describe('control plane metrics', () => {
  it('reports work queue depth, adds, retries and durations by queue name', async () => {
    const metrics = newMetrics();
    const clock = new FakeClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const q = new WorkQueue({
      name: 'replicaset', clock, logger, workers: 1, baseRetryMs: 100, observer: metrics.queues,
      reconcile: async (key) => {
        calls++;
        if (key === 'busy') await gate;
        if (key === 'bad' && calls < 4) throw new Error('boom');
      },
    });
    q.add('busy');
    q.add('a');
    q.add('bad');
    let m = await scrape(metrics);
    expect(m.types.get('workqueue_depth')).toBe('gauge');
    expect(m.sum('workqueue_depth', { name: 'replicaset' })).toBe(2);
    expect(m.sum('workqueue_adds_total', { name: 'replicaset' })).toBe(3);
    release();
    await q.idle();
    clock.advance(100);
    await q.idle();
    m = await scrape(metrics);
    expect(m.sum('workqueue_depth', { name: 'replicaset' })).toBe(0);
    expect(m.sum('workqueue_retries_total', { name: 'replicaset' })).toBe(1);
    expect(m.sum('workqueue_work_duration_seconds_count', { name: 'replicaset' })).toBe(4);
    expect(m.sum('workqueue_queue_duration_seconds_count', { name: 'replicaset' })).toBe(4);
    expect(m.types.get('workqueue_work_duration_seconds')).toBe('histogram');
  });

  it('times every call to the store backend by operation and result', async () => {
    const metrics = newMetrics();
    const store = new ObservedStore(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }), metrics.store);
    const rev = await store.create('/a', '1');
    await store.get('/a');
    await store.update('/a', '2', rev);
    await expect(store.update('/a', '3', rev)).rejects.toThrow();
    await store.list('/');
    await store.delete('/a');
    await store.close();
    const m = await scrape(metrics);
    expect(m.types.get('skiff_store_request_duration_seconds')).toBe('histogram');
    const count = (operation: string, result = 'ok') => m.sum('skiff_store_request_duration_seconds_count', { backend: 'sqlite', operation, result });
    expect([count('create'), count('get'), count('update'), count('update', 'error'), count('list'), count('delete')]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('reports scheduling attempts by result and the pods waiting for a node', async () => {
    const metrics = newMetrics();
    metrics.scheduler.attempt('scheduled', 2);
    metrics.scheduler.attempt('unschedulable', 1);
    metrics.scheduler.unschedulablePods(3);
    metrics.scheduler.backoffPods?.(2);
    const m = await scrape(metrics);
    expect(m.types.get('scheduler_schedule_attempts_total')).toBe('counter');
    expect(m.sum('scheduler_schedule_attempts_total', { result: 'scheduled' })).toBe(1);
    expect(m.sum('scheduler_schedule_attempts_total', { result: 'unschedulable' })).toBe(1);
    expect(m.sum('scheduler_schedule_attempts_total', { result: 'error' })).toBe(0);
    expect(m.sum('scheduler_scheduling_attempt_duration_seconds_count')).toBe(2);
    expect(m.sum('scheduler_pending_pods', { queue: 'unschedulable' })).toBe(3);
    expect(m.sum('scheduler_pending_pods', { queue: 'backoff' })).toBe(2);
  });

  it('counts MQTT messages and bytes by topic kind', async () => {
    const metrics = newMetrics();
    metrics.channel.received('lease', 100);
    metrics.channel.received('lease', 50);
    metrics.channel.dropped('status');
    metrics.channel.sent('desired', 1000);
    metrics.channel.connected(true);
    const m = await scrape(metrics);
    expect(m.sum('skiff_mqtt_messages_received_total', { kind: 'lease' })).toBe(2);
    expect(m.sum('skiff_mqtt_received_bytes_total', { kind: 'lease' })).toBe(150);
    expect(m.sum('skiff_mqtt_messages_dropped_total', { kind: 'status' })).toBe(1);
    expect(m.sum('skiff_mqtt_sent_bytes_total', { kind: 'desired' })).toBe(1000);
    expect(m.sum('skiff_mqtt_connected')).toBe(1);
  });

  it('counts nodes by condition and status when scraped', async () => {
    const metrics = newMetrics();
    const node = (name: string, ready: 'True' | 'False' | undefined, unschedulable = false): Node => ({
      apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { unschedulable },
      status: ready ? { conditions: [{ type: 'Ready', status: ready }, { type: 'MemoryPressure', status: 'False' }] } : {},
    } as Node);
    let nodes = [node('a', 'True'), node('b', 'True', true), node('c', 'False'), node('d', undefined)];
    let lists = 0;
    metrics.countNodes(async () => {
      lists++;
      return nodes;
    });
    let m = await scrape(metrics);
    expect(lists).toBe(1); // one list of the nodes per scrape, whatever the number of node gauges
    expect(m.sum('skiff_nodes', { condition: 'Ready', status: 'True' })).toBe(2);
    expect(m.sum('skiff_nodes', { condition: 'Ready', status: 'False' })).toBe(1);
    expect(m.sum('skiff_nodes', { condition: 'Ready', status: 'Unknown' })).toBe(1);
    expect(m.sum('skiff_nodes', { condition: 'MemoryPressure', status: 'False' })).toBe(3);
    expect(m.sum('skiff_nodes_unschedulable')).toBe(1);
    nodes = [node('a', 'False')];
    m = await scrape(metrics);
    expect(m.sum('skiff_nodes', { condition: 'Ready', status: 'True' })).toBe(0);
    expect(m.sum('skiff_nodes', { condition: 'Ready' })).toBe(1);
    expect(m.sum('skiff_nodes_unschedulable')).toBe(0);
    expect(lists).toBe(2);
  });

  it('keeps each control plane\'s metrics apart (no global registry)', async () => {
    const a = newMetrics();
    const b = newMetrics();
    a.channel.received('lease', 1);
    expect((await scrape(b)).sum('skiff_mqtt_messages_received_total')).toBe(0);
    expect((await scrape(a)).find('skiff_build_info', { component: 'control-plane' })).toHaveLength(1);
  });
});
