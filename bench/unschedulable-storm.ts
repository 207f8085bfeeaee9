// An unschedulable storm: N pending pods that no node can take while the cluster churns (bound pods
// deleted and replaced, node heartbeats, now and then a node label change), over the real store
// (SQLite + watch cache in a temp dir) and the Scheduler as control-plane.ts wires it. Counts the
// placement rounds the scheduler spends (all of them on the one event loop) and how long a pod that
// does fit waits to be bound meanwhile.
// Prints JSON. Usage: node dist/bench/unschedulable-storm.js [nodes=200] [pending=2000] [seconds=20] [deletesPerSecond=50]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { rfc3339, systemClock } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { inBatches } from '../control-plane/controllers/batches.js';
import { EventRecorder } from '../control-plane/events/event-recorder.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { Scheduler, type ScheduleResult } from '../control-plane/scheduler/scheduler.js';
import { openStore } from '../control-plane/store/open-store.js';
import { summarize } from './percentiles.js';

const nodeCount = Number(process.argv[2] ?? 200);
const pendingCount = Number(process.argv[3] ?? 2000);
const seconds = Number(process.argv[4] ?? 20);
const deletesPerSecond = Number(process.argv[5] ?? 50);
const BOUND_PER_NODE = 20;
const HEARTBEATS_PER_SECOND = 20;
const LABEL_CHANGE_EVERY_MS = 5000;
const GOOD_POD_EVERY_MS = 500;
const PARALLELISM = 32;

const clock = systemClock;
const logger = pino({ level: 'silent' });
const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-storm-'));
const store = await openStore('sqlite', dataDir);
const resources = new ResourceStore(store, { clock });
await ensureInitialNamespaces(resources);
const events = new EventRecorder(resources, clock, logger);
const attempts: Record<ScheduleResult, number> = { scheduled: 0, unschedulable: 0, error: 0 };
let waiting = 0;
const observer = { attempt: (r: ScheduleResult) => { attempts[r]++; }, unschedulablePods: (n: number) => { waiting = n; } };
const scheduler = new Scheduler({ resources, events, clock, logger, observer });

const nodeName = (i: number) => `node-${i}`;
function node(i: number): Node {
  const capacity = { cpu: '4', memory: '16Gi', pods: '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: nodeName(i), labels: { 'kubernetes.io/hostname': nodeName(i), 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: { podCIDR: `10.${40 + Math.floor(i / 250)}.${i % 250}.0/24` },
    status: {
      capacity, allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(clock.now()), lastTransitionTime: rfc3339(clock.now()) }],
    },
  } as Node;
}
const aPod = (namespace: string, name: string, cpu: string, node?: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { app: namespace } },
  spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'main', image: 'examples/app:v1', resources: { requests: { cpu, memory: '16Mi' } } }] },
});

/** Resolves once `done` holds after some pod event of `namespace` (a watch). */
function untilPods(namespace: string, done: (pods: Map<string, Pod>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const pods = new Map<string, Pod>();
    const w = resources.watch<Pod>(resourceTypes.pods, { namespace, resourceVersion: '0' }, (type, pod) => {
      if (type === 'DELETED') pods.delete(pod.metadata.name!);
      else if (type === 'ADDED' || type === 'MODIFIED') pods.set(pod.metadata.name!, pod);
      if (done(pods)) { w.cancel(); resolve(); }
    }, reject);
  });
}

const progress = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i % 100 === 99) progress(`waiting: ${waiting} parked, attempts ${JSON.stringify(attempts)}`);
    await scheduler.idle();
    await new Promise((r) => setTimeout(r, 20));
  }
}

try {
  for (const ns of ['bound', 'storm', 'good']) {
    await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
  }
  await inBatches(Array.from({ length: nodeCount }, (_, i) => i), PARALLELISM, (i) => resources.create(resourceTypes.nodes, node(i)));
  scheduler.start();
  // the cluster's pods: bound where they were created, each needing an address
  const bound: Array<{ name: string; node: string }> = [];
  const boundFailed = await inBatches(Array.from({ length: nodeCount * BOUND_PER_NODE }, (_, i) => i), PARALLELISM, async (i) => {
    const entry = { name: `b-${i}`, node: nodeName(i % nodeCount) };
    bound.push(entry);
    await resources.create(resourceTypes.pods, aPod('bound', entry.name, '100m', entry.node));
  });
  if (boundFailed.length) throw boundFailed[0];
  // the storm: pods asking more cpu than any node has
  const failed = await inBatches(Array.from({ length: pendingCount }, (_, i) => i), PARALLELISM, (i) => resources.create(resourceTypes.pods, aPod('storm', `s-${i}`, '100')));
  if (failed.length) throw failed[0];
  progress(`created ${bound.length} bound and ${pendingCount} pending pods`);
  await waitFor(() => waiting >= pendingCount && attempts.unschedulable >= pendingCount);
  progress('every pending pod tried');
  await scheduler.idle();

  // churn, with the rounds counted from here
  const before = { ...attempts };
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  let next = nodeCount * BOUND_PER_NODE;
  let labelChanges = 0;
  const bindLatencies: number[] = [];
  const pendingGood: Array<Promise<void>> = [];
  const deadline = t0 + seconds * 1000;
  let nextLabelAt = t0 + LABEL_CHANGE_EVERY_MS;
  let nextGoodAt = t0;
  let goodIndex = 0;
  let ticks = 0;
  while (performance.now() < deadline) {
    const tickStart = performance.now();
    // a tenth of a second's share of deletes (replaced by a new pod on the same node) and heartbeats
    const deletes = Math.max(1, Math.round(deletesPerSecond / 10));
    const victims = Array.from({ length: deletes }, () => bound.splice(Math.floor(Math.random() * bound.length), 1)[0]!);
    await inBatches(victims, PARALLELISM, async (v) => {
      await resources.delete(resourceTypes.pods, 'bound', v.name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      const entry = { name: `b-${next++}`, node: v.node };
      bound.push(entry);
      await resources.create(resourceTypes.pods, aPod('bound', entry.name, '100m', entry.node));
    });
    const beats = Math.max(1, Math.round(HEARTBEATS_PER_SECOND / 10));
    await inBatches(Array.from({ length: beats }, () => Math.floor(Math.random() * nodeCount)), PARALLELISM, (i) =>
      resources.mutate<Node>(resourceTypes.nodes, undefined, nodeName(i), (n) => ({
        ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(clock.now()), lastTransitionTime: n.status?.conditions?.[0]?.lastTransitionTime ?? rfc3339(clock.now()) }] },
      }), { subresource: 'status' }));
    if (performance.now() >= nextLabelAt) {
      nextLabelAt += LABEL_CHANGE_EVERY_MS;
      labelChanges++;
      const i = Math.floor(Math.random() * nodeCount);
      await resources.mutate<Node>(resourceTypes.nodes, undefined, nodeName(i), (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, 'bench/changed': String(labelChanges) } } }));
    }
    if (performance.now() >= nextGoodAt) {
      nextGoodAt += GOOD_POD_EVERY_MS;
      const name = `g-${goodIndex++}`;
      const createdAt = performance.now();
      const isBound = untilPods('good', (pods) => Boolean(pods.get(name)?.spec.nodeName));
      await resources.create(resourceTypes.pods, aPod('good', name, '10m'));
      pendingGood.push(isBound.then(() => { bindLatencies.push(performance.now() - createdAt); }));
    }
    ticks++;
    const rest = 100 - (performance.now() - tickStart);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const rounds = { scheduled: attempts.scheduled - before.scheduled, unschedulable: attempts.unschedulable - before.unschedulable, error: attempts.error - before.error };
  // pods still unbound a minute after the churn are counted as such
  await Promise.race([Promise.all(pendingGood), new Promise((r) => setTimeout(r, 60_000))]);
  const latency = summarize(bindLatencies);
  process.stdout.write(`${JSON.stringify({
    nodes: nodeCount, boundPods: nodeCount * BOUND_PER_NODE, pendingThatCannotFit: pendingCount, churnSeconds: Number(elapsed.toFixed(1)), ticks,
    churn: { boundPodDeletesPerSecond: deletesPerSecond, heartbeatsPerSecond: HEARTBEATS_PER_SECOND, labelChanges },
    placementRounds: rounds,
    unschedulableRoundsPerSecond: Math.round(rounds.unschedulable / elapsed),
    processCpuMsPerSecond: Math.round((cpu.user + cpu.system) / 1000 / elapsed),
    fittingPodBindMs: { created: goodIndex, count: bindLatencies.length, p50: Number(latency.p50.toFixed(1)), p99: Number(latency.p99.toFixed(1)), max: Number(latency.max.toFixed(1)) },
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    note: 'in-process store (SQLite + watch cache) and scheduler; nodes simulated; the churn is written by this process too',
  }, null, 2)}\n`);
} finally {
  scheduler.stop();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
