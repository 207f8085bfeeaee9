import { describe, expect, it } from 'vitest';
import { cpuMillicoresOf, PodMetricsReporter, type MeteredPod, type NodeMetricsReport } from '../../agent/pod-metrics-reporter.js';
import type { ContainerExit, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

const FUEL_PER_SECOND = 1e9;

/** A container whose fuel counter the test sets (undefined: not metered). */
function container(id: string, fuel: { now: bigint | undefined }, memoryBytes?: number): RunningContainer {
  const never = new Promise<ContainerExit>(() => {});
  return {
    id, startedAt: new Date(), exited: never, stop: () => never,
    fuelConsumed: () => fuel.now,
    memoryBytes: () => memoryBytes,
  };
}

function pod(name: string, containers: MeteredPod['runningContainers']): MeteredPod {
  return { pod: { metadata: { uid: `uid-${name}`, namespace: 'default', name } }, runningContainers: containers };
}

function reporterOver(pods: MeteredPod[], intervalMs = 15_000) {
  const clock = new FakeClock();
  const reports: NodeMetricsReport[] = [];
  const reporter = new PodMetricsReporter({
    clock, intervalMs, pods: () => pods, fuelPerSecond: () => FUEL_PER_SECOND, publish: (r) => reports.push(r), nodeMemoryBytes: () => 512 * 2 ** 20,
  });
  reporter.start();
  return { clock, reports, reporter };
}

describe('pod metrics reporter', () => {
  it('turns the fuel burnt in a window into millicores: half a core over 15 s is 500m', () => {
    const fuel = { now: 0n as bigint | undefined };
    const { clock, reports } = reporterOver([pod('web', [{ name: 'main', container: container('c1', fuel, 131_072) }])]);
    clock.advance(15_000); // first sight: baseline only
    expect(reports).toHaveLength(1);
    expect(reports[0]!.pods).toEqual([]);
    fuel.now = 7_500_000_000n; // 7.5 s of one core's fuel
    clock.advance(15_000);
    expect(reports[1]).toEqual({
      windowMs: 15_000,
      usage: { cpuMillicores: 500, memoryBytes: 512 * 2 ** 20 },
      pods: [{ uid: 'uid-web', namespace: 'default', name: 'web', containers: [{ name: 'main', cpuMillicores: 500, memoryBytes: 131_072 }] }],
    });
  });

  it('measures each window on its own and sums the node over its pods', () => {
    const a = { now: 0n as bigint | undefined };
    const b = { now: 0n as bigint | undefined };
    const { clock, reports } = reporterOver([
      pod('a', [{ name: 'main', container: container('a1', a) }]),
      pod('b', [{ name: 'main', container: container('b1', b) }, { name: 'side', container: container('b2', { now: undefined }) }]),
    ], 10_000);
    clock.advance(10_000);
    a.now = 10_000_000_000n; // a full core for 10 s
    b.now = 2_500_000_000n;
    clock.advance(10_000);
    a.now += 1_000_000_000n; // then a tenth of a core
    clock.advance(10_000);
    const [, second, third] = reports;
    expect(second!.pods.map((p) => [p.name, p.containers.map((c) => [c.name, c.cpuMillicores])])).toEqual([['a', [['main', 1000]]], ['b', [['main', 250]]]]);
    expect(second!.usage.cpuMillicores).toBe(1250);
    expect(third!.pods.map((p) => [p.name, p.containers[0]!.cpuMillicores])).toEqual([['a', 100], ['b', 0]]);
    expect(third!.usage.cpuMillicores).toBe(100);
  });

  it('leaves out unmetered containers and starts a restarted container from a new baseline', () => {
    const fuel = { now: 5_000_000_000n as bigint | undefined };
    const containers = [{ name: 'main', container: container('p/main/0', fuel) }];
    const { clock, reports } = reporterOver([pod('p', containers), pod('plain', [{ name: 'main', container: container('x', { now: undefined }) }])]);
    clock.advance(15_000);
    containers[0] = { name: 'main', container: container('p/main/1', { now: 9_000_000_000n }) }; // restarted: a new counter
    clock.advance(15_000);
    expect(reports[1]!.pods).toEqual([]);
    expect(reports[1]!.usage.cpuMillicores).toBe(0);
  });

  it('stops reporting when stopped', () => {
    const { clock, reports, reporter } = reporterOver([]);
    clock.advance(15_000);
    reporter.stop();
    clock.advance(60_000);
    expect(reports).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('computes millicores to the nanocore and never negative', () => {
    expect(cpuMillicoresOf(1n, 1e9, 1000)).toBe(0.000001);
    expect(cpuMillicoresOf(-5n, 1e9, 1000)).toBe(0);
    expect(cpuMillicoresOf(3_000_000_000n, 2e9, 3000)).toBe(500);
  });
});
