// Node lifecycle taint controller alone, over a real SQLite store (a file), on the system clock:
// N Ready nodes in zones of `zoneSize`, then `lost` of them (whole zones first) go Ready=Unknown at
// once, as a zone loss's Wills do. Prints JSON: time to every lost node's NoSchedule taint, the
// NoExecute taints by zone after the window, the longest event-loop block meanwhile (the
// controller must not stall the loop that carries the agents), CPU used.
// Usage: node dist/bench/node-taint.js [nodes=10000] [lost=1600] [zoneSize=1000] [windowMs=20000]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { systemClock } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import { inBatches } from '../control-plane/controllers/batches.js';
import { NodeTaintController } from '../control-plane/controllers/nodelifecycle/node-taint-controller.js';
import { ZONE_LABEL } from '../control-plane/controllers/nodelifecycle/zone-states.js';
import { EventRecorder } from '../control-plane/events/event-recorder.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { openStore } from '../control-plane/store/open-store.js';

const nodeCount = Number(process.argv[2] ?? 10_000);
const lostCount = Number(process.argv[3] ?? 1_600);
const zoneSize = Number(process.argv[4] ?? 1_000);
const windowMs = Number(process.argv[5] ?? 20_000);
const clock = systemClock;
const logger = pino({ level: 'silent' });
const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-node-taint-'));
const store = await openStore('sqlite', dataDir);
const resources = new ResourceStore(store, { clock });
await ensureInitialNamespaces(resources);
const events = new EventRecorder(resources, clock, logger);

const names = Array.from({ length: nodeCount }, (_, i) => `node-${String(i).padStart(5, '0')}`);
const zoneOf = (i: number) => `zone-${String(Math.floor(i / zoneSize)).padStart(2, '0')}`;
const setReady = (name: string, status: 'True' | 'Unknown') => resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => ({
  ...n, status: { ...n.status, conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'NodeStatusUnknown' }] },
}), { subresource: 'status' });
await inBatches(names, 64, async (name) => {
  await resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [ZONE_LABEL]: zoneOf(names.indexOf(name)) } }, spec: {} });
  await setReady(name, 'True');
});

const controller = new NodeTaintController({ resources, events, clock, logger });
controller.start();
await controller.idle();

// the lost: the last zones first (as the fleet bench: a whole zone, then part of the next)
const lost = names.slice(nodeCount - lostCount);
const lostSet = new Set(lost);
const noScheduleAt = new Map<string, number>();
const noExecuteAt = new Map<string, number>();
let lostAt = 0;
let allNoSchedule!: () => void;
const allNoScheduleP = new Promise<void>((r) => { allNoSchedule = r; });
const watch = resources.watch<Node>(resourceTypes.nodes, {}, (_t, node) => {
  const name = node.metadata.name!;
  if (!lostSet.has(name)) return;
  const has = (effect: string) => node.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === effect);
  if (has('NoSchedule') && !noScheduleAt.has(name)) {
    noScheduleAt.set(name, performance.now() - lostAt);
    if (noScheduleAt.size === lostCount) allNoSchedule();
  }
  if (has('NoExecute') && !noExecuteAt.has(name)) noExecuteAt.set(name, performance.now() - lostAt);
}, () => undefined);

const loop = monitorEventLoopDelay({ resolution: 10 });
const cpuBefore = process.cpuUsage();
loop.enable();
lostAt = performance.now();
await inBatches(lost, 256, (name) => setReady(name, 'Unknown'));
const writtenMs = performance.now() - lostAt;
await Promise.race([allNoScheduleP, new Promise((r) => setTimeout(r, 120_000))]);
const noScheduleMs = performance.now() - lostAt;
await new Promise((r) => setTimeout(r, Math.max(0, windowMs - noScheduleMs)));
loop.disable();
const cpu = process.cpuUsage(cpuBefore);

const byZone: Record<string, number[]> = {};
for (const [name, at] of noExecuteAt) (byZone[zoneOf(names.indexOf(name))] ??= []).push(Math.round(at));
console.log(JSON.stringify({
  bench: 'node-taint', nodes: nodeCount, lost: lostCount, zoneSize, windowMs,
  notReadyWrittenMs: Math.round(writtenMs),
  allNoScheduleMs: noScheduleAt.size === lostCount ? Math.round(noScheduleMs) : `only ${noScheduleAt.size}/${lostCount}`,
  noExecuteMsAfterLossByZone: Object.fromEntries(Object.entries(byZone).map(([z, t]) => [z, t.sort((a, b) => a - b)])),
  eventLoopDelayMs: { p50: Number((loop.percentile(50) / 1e6).toFixed(1)), p99: Number((loop.percentile(99) / 1e6).toFixed(1)), max: Number((loop.max / 1e6).toFixed(1)) },
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
}));
watch.cancel();
controller.stop();
await events.settled();
await store.close();
await rm(dataDir, { recursive: true, force: true });
