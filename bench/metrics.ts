// What metrics cost: API request latency with and without the Prometheus observer (the same
// in-process app over an in-memory SQLite store, alternated in rounds so both see the same machine),
// the time and size of a control-plane scrape with a fleet of nodes, and of an agent scrape with a
// full node of pods. Usage: node dist/bench/metrics.js [requestsPerRound=1000] [rounds=6] [nodes=1000].
// Prints JSON (milliseconds).
import { systemClock } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import type { PodStatus } from '../api/types/pod.js';
import { AgentMetrics, type ObservedPod } from '../agent/agent-metrics.js';
import { createApiApp } from '../control-plane/api/api-app.js';
import { ControlPlaneMetrics } from '../control-plane/metrics/control-plane-metrics.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { openWatchCache } from '../control-plane/store/watch-cache/watch-cache.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import type { ContainerExit, RunningContainer } from '../runtime/pod-runtime.js';
import { summarize } from './percentiles.js';

const perRound = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 6);
const nodeCount = Number(process.argv[4] ?? 1000);

const store = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
const resources = new ResourceStore(store, { clock: systemClock });
await ensureInitialNamespaces(resources);
for (let i = 0; i < 50; i++) {
  await resources.create(resourceTypes.configmaps!, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { k: 'v'.repeat(100) } });
}
const tokens = (t: string) => (t === 'bench' ? { name: 'admin', groups: ['system:masters'] } : undefined);
const metrics = new ControlPlaneMetrics({ storeBackend: 'sqlite' });
const apps = {
  plain: createApiApp({ resources, tokens }),
  observed: createApiApp({ resources, tokens, observer: metrics.api, prometheus: metrics }),
};
const headers = { authorization: 'Bearer bench' };
const paths = ['/api/v1/namespaces/default/configmaps/cm-7', '/api/v1/namespaces/default/configmaps?limit=10'];

async function round(app: (typeof apps)['plain'], samples: number[]): Promise<void> {
  for (let i = 0; i < perRound; i++) {
    const t0 = performance.now();
    const res = await app.request(paths[i % 2]!, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    samples.push(performance.now() - t0);
  }
}

const latency = { plain: [] as number[], observed: [] as number[] };
await round(apps.plain, []); // warm both
await round(apps.observed, []);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['plain', 'observed'] as const) : (['observed', 'plain'] as const);
  for (const which of order) await round(apps[which], latency[which]);
}

// a control-plane scrape with a fleet: the node counts are computed at each scrape
const fleet: Node[] = Array.from({ length: nodeCount }, (_, i) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` }, spec: {},
  status: { conditions: ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: type === 'Ready' ? (i % 10 ? 'True' : 'False') : 'False' })) },
} as Node));
metrics.countNodes(async () => fleet);
const cpScrapes: number[] = [];
let cpBytes = 0;
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  cpBytes = (await metrics.metrics()).length;
  cpScrapes.push(performance.now() - t0);
}

// an agent scrape with 110 pods (the default maxPods) of two metered containers each
const never = new Promise<ContainerExit>(() => {});
const container = (id: string): RunningContainer => ({ id, startedAt: new Date(), exited: never, stop: () => never, fuelConsumed: () => 123_456_789n, memoryBytes: () => 1 << 20 });
const status: PodStatus = { phase: 'Running', containerStatuses: ['a', 'b'].map((name) => ({ name, state: { running: {} }, ready: true, restartCount: 1, image: 'x', imageID: '' })) };
const pods: ObservedPod[] = Array.from({ length: 110 }, (_, i) => ({
  pod: { metadata: { namespace: 'default', name: `pod-${i}` } }, status: () => status,
  runningContainers: [{ name: 'a', container: container(`${i}a`) }, { name: 'b', container: container(`${i}b`) }],
}));
const agent = new AgentMetrics({ pods: () => pods, fuelPerSecond: () => 1e9 });
const agentScrapes: number[] = [];
let agentBytes = 0;
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  agentBytes = (await agent.metrics()).length;
  agentScrapes.push(performance.now() - t0);
}
await store.close();

const plain = summarize(latency.plain);
const observed = summarize(latency.observed);
process.stdout.write(`${JSON.stringify({
  apiRequest: { plain, observed, p50Ratio: Math.round((observed.p50 / plain.p50) * 1000) / 1000, meanRatio: Math.round((observed.mean / plain.mean) * 1000) / 1000 },
  controlPlaneScrape: { nodes: nodeCount, bytes: cpBytes, ...summarize(cpScrapes) },
  agentScrape: { pods: pods.length, bytes: agentBytes, ...summarize(agentScrapes) },
}, null, 2)}\n`);
process.exit(0);
