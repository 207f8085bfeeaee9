import { describe, expect, it } from 'vitest';
import type { NodeMetricsMessage } from '../../../api/mqtt/messages.js';
import { AnnotationPodMetricsSource, CPU_USAGE_ANNOTATION, FallbackPodMetricsSource } from '../../../control-plane/controllers/hpa/pod-metrics.js';
import { NodeMetricsStore } from '../../../control-plane/metrics/node-metrics-store.js';
import { aPod } from '../../support/builders.js';
import { FakeClock } from '../../support/fake-clock.js';

function report(node: string, pods: Array<[name: string, ...millicores: number[]]>, windowMs = 15_000): NodeMetricsMessage {
  return {
    v: 1, sessionId: 's', seq: 0, ts: 0, node, windowMs,
    usage: { cpuMillicores: 0, memoryBytes: 1 << 30 },
    pods: pods.map(([name, ...millicores]) => ({
      uid: `uid-${name}`, namespace: 'default', name,
      containers: millicores.map((cpuMillicores, i) => ({ name: `c${i}`, cpuMillicores, memoryBytes: 65_536 })),
    })),
  };
}

describe('node metrics store', () => {
  it('gives the HPA each pod\'s cpu as the sum of its containers, matched by uid', async () => {
    const store = new NodeMetricsStore(new FakeClock());
    store.record('n1', report('n1', [['web-1', 120, 30], ['web-2', 10]]));
    const reborn = { ...aPod('web-2'), metadata: { ...aPod('web-2').metadata, uid: 'another-uid' } };
    const usage = await store.cpuUsageMillicores([aPod('web-1'), reborn, aPod('idle')]);
    expect([...usage]).toEqual([['web-1', 150]]);
  });

  it('replaces a node\'s pods with its latest report and keeps other nodes\' pods', () => {
    const store = new NodeMetricsStore(new FakeClock());
    store.record('n1', report('n1', [['a', 100], ['b', 100]]));
    store.record('n2', report('n2', [['c', 100]]));
    store.record('n1', report('n1', [['a', 50]]));
    expect(store.pod('uid-a')?.containers[0]?.cpuMillicores).toBe(50);
    expect(store.pod('uid-b')).toBeUndefined();
    expect(store.pod('uid-c')?.node).toBe('n2');
    expect(store.node('n1')?.usage.memoryBytes).toBe(1 << 30);
  });

  it('forgets samples older than two of their windows', () => {
    const clock = new FakeClock();
    const store = new NodeMetricsStore(clock);
    store.record('n1', report('n1', [['a', 100]], 10_000));
    clock.advance(20_000);
    expect(store.pod('uid-a')).toBeDefined();
    expect(store.node('n1')?.timestampMs).toBe(clock.now() - 20_000);
    clock.advance(1);
    expect(store.pod('uid-a')).toBeUndefined();
    expect(store.node('n1')).toBeUndefined();
  });

  it('falls back to the annotation for pods without a report', async () => {
    const store = new NodeMetricsStore(new FakeClock());
    store.record('n1', report('n1', [['reported', 400]]));
    const annotated = (name: string, value: string) => ({ ...aPod(name), metadata: { ...aPod(name).metadata, annotations: { [CPU_USAGE_ANNOTATION]: value } } });
    const source = new FallbackPodMetricsSource(store, new AnnotationPodMetricsSource());
    const usage = await source.cpuUsageMillicores([annotated('reported', '5'), annotated('annotated', '250'), aPod('neither')]);
    expect(Object.fromEntries(usage)).toEqual({ reported: 400, annotated: 250 });
  });
});
