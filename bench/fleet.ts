// Fleet benchmark: N simulated agents (real MQTT clients speaking the node protocol, each also a
// minimal kubelet: bench/fleet-sim-node.ts) against one control plane running in its own process
// (`skiff control-plane`, embedded broker), so its CPU and memory are its own. A Deployment spreads
// pods over the fleet; then one loaded agent vanishes (socket destroyed: the broker sends its
// Will) and watches time NotReady and the moment all its pods run on other nodes.
// Usage: node dist/bench/fleet.js [nodes=1000] [leaseIntervalMs=10000] [windowMs=30000] [replicas=nodes].
// Prints JSON.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCredentialPath } from '../api/mqtt/node-credential.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { SimNode } from './fleet-sim-node.js';

const nodes = Number(process.argv[2] ?? 1000);
const leaseIntervalMs = Number(process.argv[3] ?? 10_000);
const windowMs = Number(process.argv[4] ?? 30_000);
const replicas = Number(process.argv[5] ?? nodes);
const CONCURRENCY = Number(process.env['FLEET_CONCURRENCY'] ?? 50);
const NS = 'default';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const LABEL = 'app=fleet-bench';
// What a user writes to have pods leave a lost node at once (the cluster default is 300 s).
const TOLERATIONS = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready']
  .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }));
// The control plane's node-lifecycle eviction limiter (control-plane/controllers/nodelifecycle).
const EVICTION = { perSecond: 10, burst: 10 };

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-fleet-'));
// FLEET_CP_NODE_ARGS: extra node flags for the control plane, e.g. "--cpu-prof --cpu-prof-dir=prof"
const cpNodeArgs = (process.env['FLEET_CP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const cp = spawn(process.execPath, [...cpNodeArgs, 'bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--insecure-mqtt', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise<string>((resolve, reject) => {
  let out = '';
  cp.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('Join agents with')) resolve(out);
  });
  cp.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
});
process.on('exit', () => cp.kill('SIGKILL')); // never leave the control plane behind
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
// plain MQTT (--insecure-mqtt): the simulated nodes measure the control plane's fan-out, figures comparable with earlier runs
const mqttUrl = /MQTT (mqtt:\/\/[^\s,]+:\d+)/.exec(ready)![1]!;
const bootstrapToken = (await readFile(join(dataDir, 'node-token'), 'utf8')).trim();
const client = new KubeClient(await readKubeconfig(join(dataDir, 'kubeconfig')));
const abort = new AbortController();

const cpuMs = async () => {
  const fields = (await readFile(`/proc/${cp.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
};
const rssMB = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${cp.pid}/status`, 'utf8'))![1]) / 1024);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** Resolves once `check` holds for what a watch of `path` has seen (ADDED/MODIFIED/DELETED applied in order). */
function watchUntil<T extends { metadata: { name?: string } }>(path: string, resourceVersion: string, seed: T[], check: (objects: Map<string, T>) => boolean, timeoutMs: number): Promise<number> {
  const objects = new Map(seed.map((o) => [o.metadata.name!, o]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch ${path}: condition not met within ${timeoutMs} ms`)), timeoutMs);
    const sep = path.includes('?') ? '&' : '?';
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
const isRunning = (p: Pod) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;

// 1. join: credential exchange over HTTPS, then birth and node status over MQTT
const names = Array.from({ length: nodes }, (_, i) => `sim-${String(i).padStart(5, '0')}`);
const sims: SimNode[] = [];
let clientErrors = 0;
const joinStarted = performance.now();
await pool(names, async (name) => {
  const res = await client.request<{ credential: string }>('POST', nodeCredentialPath(name), {}, { authorization: `Bearer ${bootstrapToken}` });
  sims.push(await SimNode.join({
    name, mqttUrl, credential: res.body.credential,
    onError: (error) => { if (++clientErrors <= 3) console.error(`${name}: ${error.message}`); },
  }));
});
const joinMs = performance.now() - joinStarted;
const readyNodes = async () => (await client.request<{ items: Node[] }>('GET', '/api/v1/nodes')).body.items
  .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
for (const deadline = Date.now() + 120_000; (await readyNodes()) < nodes && Date.now() < deadline;) await delay(500);
const registeredMs = performance.now() - joinStarted;
// every node renews its lease every leaseIntervalMs, spread evenly, as real agents do from their join
sims.forEach((sim, i) => sim.renewLeases(leaseIntervalMs, (i * leaseIntervalMs) / nodes));

// 2. a workload over the fleet, Running (as the simulated kubelets report it)
const seedPods = await listPods();
const workloadRunning = watchUntil<Pod>(`${PODS}?labelSelector=${encodeURIComponent(LABEL)}`, seedPods.body.metadata.resourceVersion, seedPods.body.items,
  (pods) => [...pods.values()].filter(isRunning).length >= replicas, 300_000);
const workloadStarted = performance.now();
const created = await client.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fleet-bench' },
  spec: {
    replicas, selector: { matchLabels: { app: 'fleet-bench' } },
    template: { metadata: { labels: { app: 'fleet-bench' } }, spec: { tolerations: TOLERATIONS, containers: [{ name: 'main', image: 'examples/sleep:latest' }] } },
  },
});
if (created.status !== 201) throw new Error(`create Deployment: HTTP ${created.status} ${created.text}`);
const workloadRunningMs = (await workloadRunning) - workloadStarted;

// 3. steady state (leases renewed since the join): the window measures a fleet running its pods
const leasesSent = () => sims.reduce((sum, s) => sum + s.leasesSent, 0);
const bytesOf = () => sims.reduce((sum, s) => sum + s.bytes, 0);
const [cpu0, leases0, bytes0, t0] = [await cpuMs(), leasesSent(), bytesOf(), performance.now()];
await delay(windowMs);
const [cpu1, leases1, bytes1, t1] = [await cpuMs(), leasesSent(), bytesOf(), performance.now()];
const elapsedMs = t1 - t0;
const leaseList = (await client.request<{ items: Array<{ spec: { renewTime: string } }> }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).body.items;
const freshLeases = leaseList.filter((l) => Date.now() - Date.parse(l.spec.renewTime) < leaseIntervalMs * 2).length;

// 4. abrupt loss of the most loaded node, timed by watches started before it
const before = await listPods();
const podsOn = (node: string) => before.body.items.filter((p) => p.spec.nodeName === node && isRunning(p)).length;
const victim = sims.reduce((best, s) => (podsOn(s.name) > podsOn(best.name) ? s : best), sims[0]!);
const victimPods = podsOn(victim.name);
const nodeList = await client.request<{ items: Node[]; metadata: { resourceVersion: string } }>('GET', `/api/v1/nodes?fieldSelector=metadata.name%3D${victim.name}`);
const notReady = watchUntil<Node>(`/api/v1/nodes?fieldSelector=metadata.name%3D${victim.name}`, nodeList.body.metadata.resourceVersion, nodeList.body.items,
  (n) => n.get(victim.name)?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True', 60_000);
const elsewhere = watchUntil<Pod>(`${PODS}?labelSelector=${encodeURIComponent(LABEL)}`, before.body.metadata.resourceVersion, before.body.items,
  (pods) => [...pods.values()].filter((p) => isRunning(p) && p.spec.nodeName !== victim.name).length >= replicas, 120_000);
const lostAt = performance.now();
victim.vanish();
const [notReadyAt, elsewhereAt] = await Promise.all([notReady, elsewhere]);
const replacedOn = new Set((await listPods()).body.items.filter((p) => isRunning(p) && !before.body.items.some((b) => b.metadata.uid === p.metadata.uid)).map((p) => p.spec.nodeName));

console.log(JSON.stringify({
  bench: 'fleet',
  nodes,
  leaseIntervalMs,
  windowMs: Math.round(elapsedMs),
  joinAllMs: Math.round(joinMs),
  allNodesReadyMs: Math.round(registeredMs),
  workload: { replicas, allRunningMs: Math.round(workloadRunningMs), podTolerations: 'unreachable and not-ready, NoExecute, tolerationSeconds 0 (pod template)' },
  controlPlane: { cpuCores: Number(((cpu1 - cpu0) / elapsedMs).toFixed(3)), rssMB: await rssMB() },
  leaseMessagesPerSecond: Math.round(((leases1 - leases0) * 1000) / elapsedMs),
  leasesFreshInApi: `${freshLeases}/${nodes}`,
  bytesPerNodePerMinute: Math.round(((bytes1 - bytes0) / nodes) * (60_000 / elapsedMs)),
  abruptLossToNotReadyMs: Math.round(notReadyAt - lostAt),
  abruptLossToPodsElsewhereMs: Math.round(elsewhereAt - lostAt),
  abruptLoss: {
    victim: victim.name,
    victimPods,
    replacementsRunningOn: replacedOn.size,
    evictionLimiter: EVICTION,
    boundedBy: victimPods <= EVICTION.burst
      ? `Will -> NotReady -> unreachable taint -> ${victimPods} evictions in one burst (limiter not waiting) -> replacements created, scheduled, published to their nodes and reported Running`
      : `the eviction limiter: ${victimPods} pods at ${EVICTION.perSecond}/s after a burst of ${EVICTION.burst}`,
  },
  simulatedClientErrors: clientErrors,
}, null, 2));

abort.abort();
for (const s of sims) s.stop();
client.close();
cp.kill('SIGTERM');
await new Promise((r) => cp.once('exit', r));
await rm(dataDir, { recursive: true, force: true });
