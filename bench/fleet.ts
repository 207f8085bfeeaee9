// Fleet benchmark: N simulated agents (real MQTT clients speaking the node protocol, each also a
// minimal kubelet: bench/fleet-sim-node.ts), run by worker processes (bench/fleet-sim-worker.ts,
// 1,000 agents each by default), against one control plane in its own process (`skiff
// control-plane`, embedded broker), so its CPU and memory are its own. A Deployment spreads pods over
// the fleet; then one loaded agent vanishes (socket destroyed: the broker sends its Will), timed by
// watches; then (FLEET_ZONE_LOSS, default with >= 3 zones) a whole zone of agents vanishes at once
// and 60 % of another, to show what the node lifecycle controller's zone rules do.
// Usage: node dist/bench/fleet.js [nodes=1000] [leaseIntervalMs=10000] [windowMs=30000] [replicas=nodes].
// Env: FLEET_STORE=etcd (a real etcd on loopback instead of SQLite; its log in the temp dir, or SKIFF_ETCD_LOG=FILE), FLEET_ZONE_SIZE (1000),
// FLEET_AGENTS_PER_WORKER (1000), FLEET_CONCURRENCY (joins in flight per worker, 25),
// FLEET_JOIN_TIMEOUT_MS (max(600 s, 200 ms per node)), FLEET_JOIN_READY_FRACTION (1: every node Ready before the idle window),
// FLEET_WORKLOAD_TIMEOUT_MS (max(900 s, 25 ms per pod): the workload may run as slow as 40 pods/s), FLEET_WORKLOAD_DEADLINE (ISO time),
// FLEET_PROGRESS_MS (10000: pods Running, pods/s and memory printed along the workload, bench/fleet-progress.ts), FLEET_SPREAD_ZONES
// (a zone topology spread constraint on the pods; default with a zone loss and fewer replicas than nodes), FLEET_PROBE_PERIOD_MS (250),
// FLEET_LOOP_SCRAPE_MS (1000, how often the probe reads the control plane's event-loop delay from /metrics; 0 never), FLEET_CP_NODE_ARGS ("--cpu-prof --cpu-prof-dir=prof"), FLEET_ZONE_WINDOW_MS (20000), FLEET_HEAP_SNAPSHOT (DIR,
// see takeHeapSnapshot), FLEET_LEASE_FLUSH_MS (the control plane's lease flush interval, 20000).
// Prints JSON.
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { startEtcdServer } from './support/etcd-server.js';
import { FleetWorkers, type WorkerStats } from './fleet-workers.js';
import { zoneLoss } from './fleet-zone-loss.js';
import { forkApiProbe } from './fleet-probe-process.js';
import { summarize } from './percentiles.js';
import { sampleProgress } from './fleet-progress.js';

const nodes = Number(process.argv[2] ?? 1000);
const leaseIntervalMs = Number(process.argv[3] ?? 10_000);
const windowMs = Number(process.argv[4] ?? 30_000);
const replicas = Number(process.argv[5] ?? nodes);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const zoneSize = env('FLEET_ZONE_SIZE', 1000);
const perWorker = env('FLEET_AGENTS_PER_WORKER', 1000);
const storeKind = process.env['FLEET_STORE'] === 'etcd' ? 'etcd' : 'sqlite';
const NS = 'default';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const LABEL = 'app=fleet-bench';
// What a user writes to have pods leave a lost node at once (the cluster default is 300 s).
const TOLERATIONS = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready']
  .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }));
// The control plane's node-lifecycle taint limiter (control-plane/controllers/nodelifecycle, decision
// 070): per zone, nodes given the NoExecute taint per second (Kubernetes' defaults), one at once.
const EVICTION = { nodesPerSecond: 0.1, secondaryNodesPerSecond: 0.01, burst: 1 };
// Fewer pods than nodes would fill the first nodes (zone-00) and leave the lost zones empty: spread
// them over the zones (FLEET_SPREAD_ZONES, default when the zone loss runs with fewer replicas than nodes).
const ZONE_SPREAD = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'fleet-bench' } } }];
const load = () => loadavg().map((l) => Number(l.toFixed(1)));
const loadAtStart = load();

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-fleet-'));
// etcd's own log goes to the bench's temp dir, kept (and its tail printed) when the run fails
const etcd = storeKind === 'etcd' ? await startEtcdServer({ logFile: process.env['SKIFF_ETCD_LOG'] ?? join(dataDir, 'etcd.log') }) : undefined;
// FLEET_CP_NODE_ARGS: extra node flags for the control plane, e.g. "--cpu-prof --cpu-prof-dir=prof"
const cpNodeArgs = (process.env['FLEET_CP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
// more than 255 nodes need more than 10.42.0.0/16 in /24s: a /8 holds 65,535
const clusterCidr = process.env['FLEET_CLUSTER_CIDR'] ?? (nodes > 254 ? '10.0.0.0/8' : '10.42.0.0/16');
const cp = spawn(process.execPath, [...cpNodeArgs, 'bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--insecure-mqtt',
  '--log-level', 'error', '--cluster-cidr', clusterCidr, '--store', etcd ? etcd.endpoint.replace('http://', 'etcd://') : 'sqlite'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise<string>((resolve, reject) => {
  let out = '';
  cp.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('Join agents with')) resolve(out);
  });
  cp.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
});
const workers = new FleetWorkers();
process.on('exit', () => {
  cp.kill('SIGTERM'); // never leave the control plane behind (SIGTERM: a --cpu-prof profile is still written)
  workers.kill();
});
const stopEtcd = () => (etcd ? etcd.stop() : Promise.resolve());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopEtcd().finally(() => process.exit(130)));
const fail = async (error: unknown) => {
  console.error(error);
  if (etcd) console.error(`etcd's log (${etcd.logFile}), last lines:\n${await etcd.logTail(60)}`);
  await stopEtcd().finally(() => process.exit(1));
};
process.on('uncaughtException', (error) => void fail(error));
process.on('unhandledRejection', (error) => void fail(error));
// plain MQTT (--insecure-mqtt): the simulated nodes measure the control plane's fan-out, figures comparable with earlier runs
const mqttUrl = /MQTT (mqtt:\/\/[^\s,]+:\d+)/.exec(ready)![1]!;
const bootstrapToken = (await readFile(join(dataDir, 'node-token'), 'utf8')).trim();
const kubeconfig = join(dataDir, 'kubeconfig');
const client = new KubeClient(await readKubeconfig(kubeconfig));
const abort = new AbortController();

const cpuMs = async () => {
  const fields = (await readFile(`/proc/${cp.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
};
const rssMB = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${cp.pid}/status`, 'utf8'))![1]) / 1024);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * FLEET_HEAP_SNAPSHOT=DIR (with FLEET_CP_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR"):
 * after the idle window the control plane writes a heap snapshot; waits until its size is steady.
 */
async function takeHeapSnapshot(dir: string): Promise<string> {
  const { readdir, stat } = await import('node:fs/promises');
  const before = new Set(await readdir(dir));
  cp.kill('SIGUSR2');
  for (let last = -1; ; await delay(2000)) {
    const file = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = (await stat(join(dir, file))).size;
    if (size > 0 && size === last) return join(dir, file);
    last = size;
  }
}

/** Resolves once `check` holds for what a watch of `path` has seen (ADDED/MODIFIED/DELETED applied in order). */
function watchUntil<T extends { metadata: { name?: string } }>(path: string, resourceVersion: string, seed: T[], check: (objects: Map<string, T>) => boolean, timeoutMs: number): Promise<number> {
  const objects = new Map(seed.map((o) => [o.metadata.name!, o]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch ${path}: condition not met within ${timeoutMs} ms`)), timeoutMs);
    const sep = path.includes('?') ? '&' : '?';
    if (check(objects)) {
      clearTimeout(timer);
      resolve(performance.now());
      return;
    }
    void client.watch<T>(`${path}${sep}resourceVersion=${resourceVersion}`, (e) => {
      if (e.type === 'DELETED') objects.delete(e.object.metadata.name!);
      else if (e.type === 'ADDED' || e.type === 'MODIFIED') objects.set(e.object.metadata.name!, e.object);
      if (check(objects)) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    }, abort.signal).catch((error: Error) => { if (!abort.signal.aborted) reject(error); });
  });
}

const listPods = () => client.request<{ items: Pod[]; metadata: { resourceVersion: string } }>('GET', `${PODS}?labelSelector=${encodeURIComponent(LABEL)}`);
const listNodes = () => client.request<{ items: Node[]; metadata: { resourceVersion: string } }>('GET', '/api/v1/nodes');
const isRunning = (p: Pod) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

// 1. join: credential exchange over HTTPS, then birth and node status over MQTT, from the workers
const names = Array.from({ length: nodes }, (_, i) => `sim-${String(i).padStart(5, '0')}`);
const zoneOf = (i: number) => `zone-${String(Math.floor(i / zoneSize)).padStart(2, '0')}`;
const zones = names.map((_, i) => zoneOf(i));
const zoneLossRuns = (process.env['FLEET_ZONE_LOSS'] ?? (new Set(zones).size >= 3 ? '1' : '0')) === '1';
const spreadZones = (process.env['FLEET_SPREAD_ZONES'] ?? (zoneLossRuns && replicas < nodes ? '1' : '0')) === '1';
await workers.start(Math.max(1, Math.ceil(nodes / perWorker)), {
  mqttUrl, kubeconfig, bootstrapToken, concurrency: env('FLEET_CONCURRENCY', 25), leaseIntervalMs,
}, (script, options) => fork(script, [], options));
// FLEET_JOIN_READY_FRACTION (1): go on once this share of the nodes is Ready (a starved join loses
// simulated agents to keepalive timeouts; they reconnect as agents do, after backoff); the count is printed
const readyNeeded = Math.ceil(nodes * env('FLEET_JOIN_READY_FRACTION', 1));
let readyAtJoin = 0;
const seedNodes = await listNodes();
const allReady = watchUntil<Node>('/api/v1/nodes', seedNodes.body.metadata.resourceVersion, seedNodes.body.items,
  (all) => { let n = 0; for (const node of all.values()) if (isReady(node)) n++; readyAtJoin = n; return n >= readyNeeded; }, env('FLEET_JOIN_TIMEOUT_MS', Math.max(600_000, nodes * 200)))
  // a join that times out says how far it got (the error ends the run)
  .catch((error: Error) => { throw new Error(`${error.message}: ${readyAtJoin} of ${nodes} nodes Ready (${readyNeeded} needed)`); });
const joinStarted = performance.now();
const joined = await workers.join(names, zones);
const joinMs = performance.now() - joinStarted;
const registeredMs = (await allReady) - joinStarted;
const afterJoin = { cpuMs: await cpuMs(), rssMB: await rssMB() };
/** The simulated agents' sessions over a phase: closed after set-up, set up again, attempts; connected at its end. */
const sessions = (s0: WorkerStats | undefined, s1: WorkerStats) => ({
  disconnects: s1.disconnects - (s0?.disconnects ?? 0), reconnects: s1.reconnects - (s0?.reconnects ?? 0),
  reconnectAttempts: s1.reconnectAttempts - (s0?.reconnectAttempts ?? 0), connectedAtEnd: s1.connected,
});
const afterJoinStats = await workers.stats();
const sessionsByPhase: Record<string, ReturnType<typeof sessions>> = { join: sessions(undefined, afterJoinStats) };
// each phase's figures as it ends (stderr), so a run stopped later still says what it measured
const progress = (phase: string, figures: object) => console.error(JSON.stringify({ phase, ...figures }));
progress('joined', { joinAllMs: Math.round(joinMs), allNodesReadyMs: Math.round(registeredMs), nodesReady: readyAtJoin, joinFailures: joined.joinFailures, afterJoin, sessions: sessionsByPhase['join'] });

// 2. idle: the fleet only renews leases
const window = async (ms: number) => {
  const [cpu0, s0, t0] = [await cpuMs(), await workers.stats(), performance.now()];
  await delay(ms);
  const [cpu1, s1, t1] = [await cpuMs(), await workers.stats(), performance.now()];
  const elapsed = t1 - t0;
  return {
    windowMs: Math.round(elapsed),
    controlPlane: { cpuCores: Number(((cpu1 - cpu0) / elapsed).toFixed(3)), rssMB: await rssMB() },
    simulatorsCpuCores: Number(((s1.cpuMs - s0.cpuMs) / elapsed).toFixed(3)),
    leaseMessagesPerSecond: Math.round(((s1.leasesSent - s0.leasesSent) * 1000) / elapsed),
    bytesPerNodePerMinute: Math.round(((s1.bytes - s0.bytes) / nodes) * (60_000 / elapsed)),
    desiredMessages: s1.desiredMessages - s0.desiredMessages,
    sessions: sessions(s0, s1),
    loadAverage: load(),
  };
};
await delay(leaseIntervalMs); // every node has renewed once: the Leases exist
const idle = await window(windowMs);
const heapSnapshot = process.env['FLEET_HEAP_SNAPSHOT'] ? await takeHeapSnapshot(process.env['FLEET_HEAP_SNAPSHOT']) : undefined;
// The list is a snapshot taken somewhere between listStart and listEnd: a Lease's age is judged
// against listStart (the youngest it can have been when read), not the time the whole list arrived.
const listStart = Date.now();
const leaseList = (await client.request<{ items: Array<{ spec: { renewTime: string; leaseDurationSeconds: number } }> }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).body.items;
const listEnd = Date.now();
// Leases are written every flush interval (decision 058, 20 s): a renewal is in the API within it
const leaseFlushMs = env('FLEET_LEASE_FLUSH_MS', 20_000);
const promisedAgeMs = leaseIntervalMs + leaseFlushMs + 2_000;
const leaseAges = leaseList.map((l) => listStart - Date.parse(l.spec.renewTime));
const freshLeases = leaseAges.filter((age) => age < promisedAgeMs).length;
const freshAtListEnd = leaseList.filter((l) => listEnd - Date.parse(l.spec.renewTime) < promisedAgeMs).length;
const unexpiredLeases = leaseList.filter((l) => Date.parse(l.spec.renewTime) + l.spec.leaseDurationSeconds * 1000 > listStart).length;
const leaseAgeInApi = { ageAtListStartMs: summarize(leaseAges), listMs: listEnd - listStart, promisedAgeMs, freshJudgedAtListEnd: freshAtListEnd };
const joinStats = await workers.stats();
progress('idle', { idle, freshLeases, unexpiredLeases, leaseAgeInApi });

// 3. a workload over the fleet, Running (as the simulated kubelets report it)
// FLEET_WORKLOAD_DEADLINE (an ISO time): end the workload by then with what it measured (a shared machine's slot)
// the default scales with the pods: a 100,000-pod rollout on a shared machine (~40 pods/s) is not cut at 15 minutes
const workloadTimeoutMs = Math.min(env('FLEET_WORKLOAD_TIMEOUT_MS', Math.max(900_000, replicas * 25)),
  process.env['FLEET_WORKLOAD_DEADLINE'] ? Date.parse(process.env['FLEET_WORKLOAD_DEADLINE']) - Date.now() : Infinity);
const seedPods = await listPods();
let runningSeen = 0;
const workloadRunning = watchUntil<Pod>(`${PODS}?labelSelector=${encodeURIComponent(LABEL)}`, seedPods.body.metadata.resourceVersion, seedPods.body.items,
  (pods) => { let n = 0; for (const p of pods.values()) if (isRunning(p)) n++; runningSeen = n; return n >= replicas; }, workloadTimeoutMs);
// the probe: a `kubectl get pods -l` of a small labelled set, and a create, every 250 ms while the workload runs
const PROBE_LABEL = 'app=fleet-probe';
for (let i = 0; i < 5; i++) {
  const probePod = await client.request('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `fleet-probe-${i}`, labels: { app: 'fleet-probe' } }, spec: { containers: [{ name: 'main', image: 'examples/sleep:latest' }] } });
  if (probePod.status !== 201) throw new Error(`create probe pod: HTTP ${probePod.status} ${probePod.text}`);
}
// in a process of its own (a second kubectl): this one's event loop follows every pod of the workload
const probe = await forkApiProbe({
  kubeconfig, listPath: `${PODS}?labelSelector=${encodeURIComponent(PROBE_LABEL)}`, createPath: `/api/v1/namespaces/${NS}/configmaps`,
  namePrefix: 'fleet-probe', periodMs: env('FLEET_PROBE_PERIOD_MS', 250), loopScrapeMs: env('FLEET_LOOP_SCRAPE_MS', 1000), controlPlanePid: cp.pid!,
});
process.on('exit', () => probe.kill());
const workloadCpuMs = await cpuMs();
const beforeWorkloadStats = await workers.stats();
const workloadStarted = performance.now();
const progressOf = sampleProgress({
  periodMs: env('FLEET_PROGRESS_MS', 10_000), running: () => runningSeen, rssMB,
  metrics: async () => { const r = await client.request<string>('GET', '/metrics'); return r.status === 200 ? r.text : undefined; },
  onSample: (sample) => progress('workload-progress', sample),
});
const created = await client.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fleet-bench' },
  spec: {
    replicas, selector: { matchLabels: { app: 'fleet-bench' } },
    template: { metadata: { labels: { app: 'fleet-bench' } }, spec: { tolerations: TOLERATIONS, ...(spreadZones ? { topologySpreadConstraints: ZONE_SPREAD } : {}), containers: [{ name: 'main', image: 'examples/sleep:latest' }] } },
  },
});
if (created.status !== 201) throw new Error(`create Deployment: HTTP ${created.status} ${created.text}`);
const workloadRunningMs = await workloadRunning.then((at) => at - workloadStarted, async (error: Error) => {
  // what was measured so far is still worth printing: how far it got, and the API while it ran
  progress('workload-timeout', {
    replicas, runningSeen, progress: progressOf.stop(), afterMs: Math.round(performance.now() - workloadStarted), sessions: sessions(beforeWorkloadStats, await workers.stats()), duringWorkload: await probe.stop(), error: error.message,
  });
  process.exit(1);
});
// the CPU the control plane got while it ran: on a shared machine, what bounds its latencies
const workloadProgress = progressOf.stop();
const workloadCpuCores = Number(((await cpuMs() - workloadCpuMs) / workloadRunningMs).toFixed(3));
const duringWorkload = { ...await probe.stop(), controlPlaneCpuCores: workloadCpuCores, loadAverage: load() };
sessionsByPhase['workload'] = sessions(beforeWorkloadStats, await workers.stats());
progress('workload', { replicas, allRunningMs: Math.round(workloadRunningMs), podsPerSecond: Math.round((replicas * 1000) / workloadRunningMs), duringWorkload, sessions: sessionsByPhase['workload'] });
const running = await window(windowMs);

// 4. abrupt loss of the most loaded node, timed by watches started before it
const before = await listPods();
const perNode = new Map<string, number>();
for (const p of before.body.items) if (isRunning(p)) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
const victim = [...perNode.entries()].reduce((best, e) => (e[1] > best[1] ? e : best), [names[0]!, 0] as [string, number])[0];
const victimPods = perNode.get(victim) ?? 0;
const nodeList = await client.request<{ items: Node[]; metadata: { resourceVersion: string } }>('GET', `/api/v1/nodes?fieldSelector=metadata.name%3D${victim}`);
const notReady = watchUntil<Node>(`/api/v1/nodes?fieldSelector=metadata.name%3D${victim}`, nodeList.body.metadata.resourceVersion, nodeList.body.items,
  (n) => !isReady(n.get(victim)!), 60_000);
const elsewhere = watchUntil<Pod>(`${PODS}?labelSelector=${encodeURIComponent(LABEL)}`, before.body.metadata.resourceVersion, before.body.items,
  (pods) => { let n = 0; for (const p of pods.values()) if (isRunning(p) && p.spec.nodeName !== victim) n++; return n >= replicas; }, 180_000);
const beforeLossStats = await workers.stats();
const lostAt = performance.now();
await workers.vanish([victim]);
const [notReadyAt, elsewhereAt] = await Promise.all([notReady, elsewhere]);
const replacedOn = new Set((await listPods()).body.items.filter((p) => isRunning(p) && !before.body.items.some((b) => b.metadata.uid === p.metadata.uid)).map((p) => p.spec.nodeName));

// 5. a zone lost at once, and most of another
const zoneResult = zoneLossRuns
  ? await zoneLoss({ client, workers, names, zones, victim, podsPath: PODS, label: LABEL, windowMs: env('FLEET_ZONE_WINDOW_MS', 20_000), signal: abort.signal, nodeEvictionRate: EVICTION.nodesPerSecond, secondaryNodeEvictionRate: EVICTION.secondaryNodesPerSecond })
  : 'skipped (fewer than 3 zones)';
// the vanished agents end for good: what is counted here are the others' sessions
sessionsByPhase['losses'] = sessions(beforeLossStats, await workers.stats());

console.log(JSON.stringify({
  bench: 'fleet',
  nodes,
  store: storeKind,
  clusterCidr,
  workers: workers.count,
  leaseIntervalMs,
  loadAverageAtStart: loadAtStart,
  joinAllMs: Math.round(joinMs),
  allNodesReadyMs: Math.round(registeredMs),
  nodesReadyAtJoin: readyAtJoin,
  afterJoin,
  idle,
  leasesFreshInApi: `${freshLeases}/${nodes} (renewed within the lease interval + the flush interval)`,
  leasesUnexpiredInApi: `${unexpiredLeases}/${nodes}`,
  leaseAgeInApi,
  ...(heapSnapshot ? { heapSnapshot } : {}),
  desiredDuringJoin: { messages: joinStats.desiredMessages, bytes: joinStats.desiredBytes },
  workload: { replicas, spreadOverZones: spreadZones, allRunningMs: Math.round(workloadRunningMs), podsPerSecond: Math.round((replicas * 1000) / workloadRunningMs), duringWorkload, progress: workloadProgress, podTolerations: 'unreachable and not-ready, NoExecute, tolerationSeconds 0 (pod template)' },
  running,
  abruptLossToNotReadyMs: Math.round(notReadyAt - lostAt),
  abruptLossToPodsElsewhereMs: Math.round(elsewhereAt - lostAt),
  abruptLoss: {
    victim,
    victimPods,
    replacementsRunningOn: replacedOn.size,
    taintLimiter: EVICTION,
    boundedBy: `Will -> NotReady -> unreachable NoExecute taint (the zone's first token) -> ${victimPods} evictions at once -> replacements created, scheduled, published to their nodes and reported Running`,
  },
  zoneLoss: zoneResult,
  // the simulated agents' MQTT sessions per phase (idle and running: their windows); a reconnect is an agent's session closed and set up again
  sessionsByPhase: { ...sessionsByPhase, idle: idle.sessions, running: running.sessions },
  simulatedClientErrors: joined.errors,
  mqttConnectRetries: joined.connectRetries,
  // agents given up after 12 connection attempts (or a refused credential exchange): not in the fleet
  joinFailures: joined.joinFailures,
  // credential exchanges answered 429/5xx and tried again (as an agent does)
  credentialRetries: joined.credentialRetries,
}, null, 2));

abort.abort();
await workers.stop();
client.close();
cp.kill('SIGTERM');
await new Promise((r) => cp.once('exit', r));
await etcd?.stop();
await rm(dataDir, { recursive: true, force: true });
