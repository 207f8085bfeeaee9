// The pods curve (issue 13): a 10,000-replica Deployment, then Deployments up to 100,000 pods across a
// simulated fleet, with the store (SQLite + watch cache), the shared informers, the scheduler and the
// controllers wired as control-plane.ts wires them, and in-process simulated kubelets that report
// each bound pod Running and Ready through the store (as the pod status sink does for agents).
// Prints JSON: time to all Running, pods/s between checkpoints (1k ... 100k: flat means within 20 %),
// RSS, and the latency of a label-selected pod list and of a create measured on the same event loop
// while the run goes on (what the API, which shares that loop, would add).
// Usage: node dist/bench/pods-curve.js [nodes=1000] [pods=100000] [firstDeployment=10000]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { join } from 'node:path';
import pino from 'pino';
import { rfc3339, systemClock } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { inBatches } from '../control-plane/controllers/batches.js';
import { OWNER_SYNC_INTERVAL_MS, startControllers } from '../control-plane/controllers/controller-manager.js';
import type { Deployment } from '../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../control-plane/events/event-recorder.js';
import { SharedInformers } from '../control-plane/reconcile/shared-informers.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { Scheduler } from '../control-plane/scheduler/scheduler.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import { openWatchCache } from '../control-plane/store/watch-cache/watch-cache.js';
import { summarize } from './percentiles.js';
import { startGcClock, type GcTotals } from './support/gc-time.js';

const nodeCount = Number(process.argv[2] ?? 1000);
const podCount = Number(process.argv[3] ?? 100_000);
const firstReplicas = Math.min(podCount, Number(process.argv[4] ?? 10_000));
const CHECKPOINTS = [1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000].filter((c) => c <= podCount);
const KUBELET_PARALLELISM = 64;
const PROBE_EVERY_MS = 250;
const TIMEOUT_MS = 900_000;
const NS = 'fleet';

const clock = systemClock;
const logger = pino({ level: 'silent' });
const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-pods-'));
// what openStore('sqlite', dataDir) opens (synchronous NORMAL, the watch cache), with the driver kept for its counters
const sqlite = await openSqliteStore({ path: join(dataDir, 'state.db'), synchronous: 'NORMAL' });
const store = await openWatchCache(sqlite);
const resources = new ResourceStore(store, { clock });
await ensureInitialNamespaces(resources);
const events = new EventRecorder(resources, clock, logger);
const informers = new SharedInformers({ resources, clock, logger });
const stops: Array<() => void> = [() => informers.stop()];

function node(i: number): Node {
  const name = `node-${i}`;
  const capacity = { cpu: '64', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: { podCIDR: `10.${40 + Math.floor(i / 250)}.${i % 250}.0/24` },
    status: {
      capacity, allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated', lastHeartbeatTime: rfc3339(clock.now()), lastTransitionTime: rfc3339(clock.now()) }],
    },
  } as Node;
}

const deployment = (name: string, replicas: number): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'examples/app:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
  },
});

/** Simulated kubelets: every bound pod is reported Running and Ready once (bounded parallelism). */
function startKubelets(onRunning: () => void): () => void {
  const handled = new Set<string>();
  const pending: Pod[] = [];
  let active = 0;
  const pump = () => {
    while (active < KUBELET_PARALLELISM && pending.length) {
      const pod = pending.pop()!;
      active++;
      const now = rfc3339(clock.now());
      void resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, (p) => ({
        ...p, status: { ...p.status, phase: 'Running', startTime: now, conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ] },
      }), { subresource: 'status' }).then(onRunning, () => handled.delete(pod.metadata.uid!)).finally(() => {
        active--;
        pump();
      });
    }
  };
  return informers.for<Pod>(resourceTypes.pods).subscribe((type, pod) => {
    if (type === 'DELETED' || pod.metadata.namespace !== NS || !pod.spec.nodeName || handled.has(pod.metadata.uid!)) return;
    handled.add(pod.metadata.uid!);
    pending.push(pod);
    pump();
  });
}

/** Every PROBE_EVERY_MS: a label-selected list of a 10-pod Deployment and a ConfigMap create, timed. */
function startProbes(): { list: number[]; create: number[]; stop: () => void } {
  const list: number[] = [];
  const create: number[] = [];
  let n = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      let t0 = performance.now();
      await resources.list<Pod>(resourceTypes.pods, { namespace: NS, labelSelector: 'app=probe' });
      list.push(performance.now() - t0);
      t0 = performance.now();
      await resources.create(resourceTypes.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `probe-${n++}`, namespace: 'default' }, data: { n: String(n) } });
      create.push(performance.now() - t0);
    })().catch(() => undefined).finally(() => { busy = false; });
  }, PROBE_EVERY_MS);
  return { list, create, stop: () => clearInterval(timer) };
}

try {
  await inBatches(Array.from({ length: nodeCount }, (_, i) => i), 32, (i) => resources.create(resourceTypes.nodes, node(i)));
  await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const scheduler = new Scheduler({ resources, events, clock, logger, informers });
  scheduler.start();
  stops.push(() => scheduler.stop());
  const controllers = startControllers({ resources, events, clock, logger, informers, ownerSyncIntervalMs: OWNER_SYNC_INTERVAL_MS });
  stops.push(() => controllers.stop());
  await resources.create(resourceTypes.deployments, deployment('probe', 10));

  let running = 0;
  const target = podCount + 10;
  const t0 = performance.now();
  const marks: Array<{ pods: number; seconds: number; rssMB: number; heapUsedMB: number; cpuMs: number; gc: GcTotals; loop: EventLoopUtilization }> = [];
  // per step: the process's CPU and the GC pauses on the main thread (what grows with the pods?)
  const gcClock = startGcClock();
  stops.push(() => gcClock.stop());
  const cpuAt0 = process.cpuUsage();
  const loopAt0 = performance.eventLoopUtilization();
  const cpuMsSince0 = () => {
    const used = process.cpuUsage(cpuAt0);
    return (used.user + used.system) / 1000;
  };
  let nextMark = 0;
  /** When the first pod of the run was Running: the 1k step's rate includes this pipeline latency (Deployment, ReplicaSet, slow start). */
  let firstPodSeconds = 0;
  let done!: () => void;
  const allRunning = new Promise<void>((resolve, reject) => {
    done = resolve;
    setTimeout(() => reject(new Error(`timed out with ${running} Running`)), TIMEOUT_MS).unref();
  });
  let firstDone!: () => void;
  const firstRunning = new Promise<void>((resolve) => { firstDone = resolve; });
  stops.push(startKubelets(() => {
    running++;
    const pods = running - 10; // the probe Deployment's pods come first
    if (pods === 1) firstPodSeconds = (performance.now() - t0) / 1000;
    while (nextMark < CHECKPOINTS.length && pods >= CHECKPOINTS[nextMark]!) {
      const memory = process.memoryUsage();
      marks.push({
        pods: CHECKPOINTS[nextMark]!, seconds: (performance.now() - t0) / 1000, rssMB: Math.round(memory.rss / 2 ** 20),
        heapUsedMB: Math.round(memory.heapUsed / 2 ** 20), cpuMs: cpuMsSince0(), gc: gcClock.read(),
        loop: performance.eventLoopUtilization(loopAt0),
      });
      nextMark++;
    }
    if (pods >= firstReplicas) firstDone();
    if (running >= target) done();
  }));
  const progress = setInterval(() => process.stderr.write(`${Math.round(performance.now() - t0)} ms: ${running} Running, ${informers.for<Pod>(resourceTypes.pods).list().length} pods\n`), 5000);
  stops.push(() => clearInterval(progress));
  const probes = startProbes();
  stops.push(() => probes.stop());

  await resources.create(resourceTypes.deployments, deployment('web-0', firstReplicas));
  await firstRunning;
  const firstSeconds = (performance.now() - t0) / 1000;
  const rest = podCount - firstReplicas;
  const perDeployment = 10_000;
  for (let i = 0; i * perDeployment < rest; i++) {
    await resources.create(resourceTypes.deployments, deployment(`web-${i + 1}`, Math.min(perDeployment, rest - i * perDeployment)));
  }
  await allRunning;
  const totalSeconds = (performance.now() - t0) / 1000;
  probes.stop();

  const noGc: GcTotals = { minorMs: 0, majorMs: 0, otherMs: 0, majorCount: 0 };
  const perPod = (ms: number, pods: number) => Number((ms / pods).toFixed(3));
  const curve = marks.map((m, i) => {
    const prev = i === 0 ? { pods: 0, seconds: 0, cpuMs: 0, gc: noGc, loop: undefined } : marks[i - 1]!;
    const pods = m.pods - prev.pods;
    return {
      pods: m.pods, atSeconds: Number(m.seconds.toFixed(2)), podsPerSecond: Math.round(pods / (m.seconds - prev.seconds)), rssMB: m.rssMB, heapUsedMB: m.heapUsedMB,
      // CPU (user + sys, all threads) and main-thread GC pauses per pod of this step, ms
      cpuMsPerPod: perPod(m.cpuMs - prev.cpuMs, pods),
      gcMsPerPod: { minor: perPod(m.gc.minorMs - prev.gc.minorMs, pods), major: perPod(m.gc.majorMs - prev.gc.majorMs, pods), other: perPod(m.gc.otherMs - prev.gc.otherMs, pods) },
      majorGcs: m.gc.majorCount - prev.gc.majorCount,
      // the share of the step the main thread was busy (1: the one event loop was the limit)
      eventLoopUtilization: Number((prev.loop ? performance.eventLoopUtilization(m.loop, prev.loop) : m.loop).utilization.toFixed(3)),
    };
  });
  const rates = curve.map((c) => c.podsPerSecond);
  process.stdout.write(`${JSON.stringify({
    nodes: nodeCount, pods: podCount, firstDeployment: firstReplicas,
    firstPodRunningSeconds: Number(firstPodSeconds.toFixed(2)),
    firstDeploymentRunningSeconds: Number(firstSeconds.toFixed(2)),
    allRunningSeconds: Number(totalSeconds.toFixed(2)),
    podsPerSecond: Math.round(podCount / totalSeconds),
    curve,
    flatness: { min: Math.min(...rates), max: Math.max(...rates), minOverMax: Number((Math.min(...rates) / Math.max(...rates)).toFixed(2)) },
    // the first step's rate counted from the first pod Running (throughput once the pipeline is full)
    firstStepAfterFirstPodPodsPerSecond: marks.length ? Math.round((marks[0]!.pods - 1) / (marks[0]!.seconds - firstPodSeconds)) : undefined,
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    cpuMsPerPod: perPod(cpuMsSince0(), podCount),
    labelSelectedListMs: summarize(probes.list),
    createMs: summarize(probes.create),
    // the SQLite store's upkeep: transactions, checkpoints by the worker and by the writer itself
    sqlite: { transactions: sqlite.batches, workerCheckpoints: sqlite.checkpoints, writerCheckpoints: sqlite.writerCheckpoints, writerCheckpointFrames: sqlite.writerCheckpointFrames },
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    note: 'one process: SQLite store + watch cache, shared informers, scheduler, controllers, simulated kubelets; latencies measured on the shared event loop',
  }, null, 2)}\n`);
} finally {
  for (const stop of stops.reverse()) stop();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
