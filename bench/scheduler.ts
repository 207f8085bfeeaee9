// Scheduler and controller benchmark over the real store (SQLite + watch cache in a temp dir),
// Scheduler and controllers wired as control-plane.ts wires them, with 100 simulated Ready nodes
// written straight to the store and a fake kubelet that marks bound pods Running and Ready.
// Prints JSON: pods bound per second (3000 pods), and how long a 100-replica Deployment takes to
// become Available and to roll out a new image.
// Usage: node dist/bench/scheduler.js [nodes=100] [pods=3000] [replicas=100]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { rfc3339, systemClock } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { startControllers } from '../control-plane/controllers/controller-manager.js';
import { inBatches } from '../control-plane/controllers/batches.js';
import type { Deployment } from '../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../control-plane/events/event-recorder.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { Scheduler } from '../control-plane/scheduler/scheduler.js';
import { openStore } from '../control-plane/store/open-store.js';

const nodeCount = Number(process.argv[2] ?? 100);
const podCount = Number(process.argv[3] ?? 3000);
const replicas = Number(process.argv[4] ?? 100);
const WRITE_PARALLELISM = 32;
const TIMEOUT_MS = 300_000;

const clock = systemClock;
const logger = pino({ level: 'silent' });
const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-scheduler-'));
const store = await openStore('sqlite', dataDir);
const resources = new ResourceStore(store, { clock });
await ensureInitialNamespaces(resources);
const events = new EventRecorder(resources, clock, logger);
const scheduler = new Scheduler({ resources, events, clock, logger });
const stops: Array<() => void> = [];

/** Resolves when `done` holds after some pod event (a watch; rejects after TIMEOUT_MS). */
function untilPods(namespace: string, done: (pods: Map<string, Pod>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const pods = new Map<string, Pod>();
    const timer = setTimeout(() => { w.cancel(); reject(new Error(`timed out in ${namespace}`)); }, TIMEOUT_MS);
    const w = resources.watch<Pod>(resourceTypes.pods, { namespace, resourceVersion: '0' }, (type, pod) => {
      if (type === 'DELETED') pods.delete(pod.metadata.name!);
      else if (type === 'ADDED' || type === 'MODIFIED') pods.set(pod.metadata.name!, pod);
      if (done(pods)) { clearTimeout(timer); w.cancel(); resolve(); }
    }, (e) => { clearTimeout(timer); reject(e); });
  });
}

function untilDeployment(name: string, done: (d: Deployment) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { w.cancel(); reject(new Error(`deployment ${name} timed out`)); }, TIMEOUT_MS);
    const w = resources.watch<Deployment>(resourceTypes.deployments, { namespace: 'default', resourceVersion: '0' }, (type, d) => {
      if ((type === 'ADDED' || type === 'MODIFIED') && d.metadata.name === name && done(d)) { clearTimeout(timer); w.cancel(); resolve(); }
    }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/** A kubelet stand-in for namespace `default`: bound pods become Running and Ready; deleted ones go at once. */
function startFakeKubelet(): () => void {
  const handled = new Set<string>();
  const w = resources.watch<Pod>(resourceTypes.pods, { namespace: 'default', resourceVersion: '0' }, (type, pod) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp) {
      void resources.delete(resourceTypes.pods, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (!pod.spec.nodeName || handled.has(pod.metadata.uid!)) return;
    handled.add(pod.metadata.uid!);
    const now = rfc3339(clock.now());
    void resources.mutate<Pod>(resourceTypes.pods, 'default', name, (p) => ({
      ...p, status: { ...p.status, phase: 'Running', startTime: now, conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
      ] },
    }), { subresource: 'status' }).catch(() => undefined);
  }, () => undefined);
  return () => w.cancel();
}

function node(i: number): Node {
  const name = `node-${i}`;
  const resources = { cpu: '64', memory: '64Gi', pods: '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: { podCIDR: `10.${40 + Math.floor(i / 250)}.${i % 250}.0/24` },
    status: {
      capacity: resources, allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated', lastHeartbeatTime: rfc3339(clock.now()), lastTransitionTime: rfc3339(clock.now()) }],
    },
  } as Node;
}

const pod = (i: number): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'bench', labels: { app: 'bench' } },
  spec: { containers: [{ name: 'main', image: 'examples/app:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

const deployment = (image: string): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
  },
});

const rolledOut = (image: string) => (d: Deployment) => {
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) && d.spec.template.spec.containers[0]!.image === image
    && s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas
    && !!s.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
};

try {
  await inBatches(Array.from({ length: nodeCount }, (_, i) => i), WRITE_PARALLELISM, (i) => resources.create(resourceTypes.nodes, node(i)));
  await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  // no service account controller runs here: without its default account every pod create is refused (decision 050)
  await resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'bench' } });
  // all pods pending before the scheduler starts: the figure is scheduling alone, not pod creation
  const failed = await inBatches(Array.from({ length: podCount }, (_, i) => i), WRITE_PARALLELISM, (i) => resources.create(resourceTypes.pods, pod(i)));
  if (failed.length) throw failed[0];
  const allBound = untilPods('bench', (pods) => pods.size === podCount && [...pods.values()].every((p) => p.spec.nodeName));
  const t0 = performance.now();
  scheduler.start();
  stops.push(() => scheduler.stop());
  await allBound;
  const bindSeconds = (performance.now() - t0) / 1000;
  const boundNodes = new Set((await resources.list<Pod>(resourceTypes.pods, { namespace: 'bench' })).items.map((p) => p.spec.nodeName)).size;

  stops.push(startFakeKubelet());
  const controllers = startControllers({ resources, events, clock, logger });
  stops.push(() => controllers.stop());
  const t1 = performance.now();
  await resources.create(resourceTypes.deployments, deployment('examples/app:v1'));
  await untilDeployment('web', rolledOut('examples/app:v1'));
  const availableMs = performance.now() - t1;

  const t2 = performance.now();
  await resources.mutate<Deployment>(resourceTypes.deployments, 'default', 'web', (d) => ({
    ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: [{ ...d.spec.template.spec.containers[0]!, image: 'examples/app:v2' }] } } },
  }));
  await untilDeployment('web', rolledOut('examples/app:v2'));
  const rolloutMs = performance.now() - t2;

  process.stdout.write(`${JSON.stringify({
    nodes: nodeCount,
    pods: podCount,
    podsBoundPerSecond: Math.round(podCount / bindSeconds),
    bindAllSeconds: Number(bindSeconds.toFixed(2)),
    nodesUsed: boundNodes,
    deploymentReplicas: replicas,
    deploymentAvailableMs: Math.round(availableMs),
    rolloutMs: Math.round(rolloutMs),
    note: 'in-process store (SQLite + watch cache), scheduler and controllers; nodes and kubelets simulated',
  }, null, 2)}\n`);
} finally {
  for (const stop of stops.reverse()) stop();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
