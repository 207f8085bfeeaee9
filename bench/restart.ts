// Restart benchmark (issue 10): `skiff control-plane` (dist/, its own process) restarted on a data
// dir that holds many pods. The data dir is made by a first start (credentials, certificates,
// namespaces), then filled through a ResourceStore on the bare SQLite store (defaulted and validated
// as the API would): NODES nodes, ReplicaSets of 10,000 pods each, every pod bound and Running with
// its owner satisfied, as a cluster that was stopped while it ran. Then the control plane starts
// again and we time /healthz and the first reads, and sample its RSS and CPU.
// Usage: node dist/bench/restart.js [pods=100000] [nodes=1000] [watchSeconds=30]. Prints JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rfc3339 } from '../api/clock.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import type { ReplicaSet } from '../control-plane/controllers/workload-kinds.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { openStore } from '../control-plane/store/open-store.js';
import { summarize } from './percentiles.js';

const podCount = Number(process.argv[2] ?? 100_000);
const nodeCount = Number(process.argv[3] ?? 1000);
const watchSeconds = Number(process.argv[4] ?? 30);
const PER_REPLICASET = 10_000;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// RESTART_DATA_DIR: a data dir this benchmark filled before (kept, and filled only when it has no state.db yet)
const keptDataDir = process.env['RESTART_DATA_DIR'];
const dataDir = keptDataDir ?? await mkdtemp(join(tmpdir(), 'skiff-restart-'));
const isFilled = keptDataDir !== undefined && existsSync(join(keptDataDir, 'state.db'));
const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

/** A port free on loopback now (the restarted process is given it, so we can ask before it writes its kubeconfig). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `skiff control-plane`; `ready` resolves when it says so. */
function startControlPlane(apiPort: number, nodeArgs: string[] = []): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [...nodeArgs, 'bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', String(apiPort), '--mqtt-port', '0', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('control plane is ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
  return { child, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

// 1. a data dir with credentials, certificates and the initial namespaces
if (!isFilled) {
  const first = startControlPlane(0);
  await first.ready;
  await stop(first.child);
}

// 2. filled with nodes, ReplicaSets and their running pods
const fillStartedAt = performance.now();
const store = await openStore('sqlite', dataDir, { cache: false });
const replicaSets: ReplicaSet[] = [];
if (!isFilled) await fill();
const fillMs = performance.now() - fillStartedAt;
await store.close();

async function fill(): Promise<void> {
  const resources = new ResourceStore(store);
  const now = rfc3339(Date.now());
  for (let i = 0; i < nodeCount; i++) {
    await resources.create<Node>(resourceTypes.nodes, {
      apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
      spec: { podCIDR: `10.${42 + Math.floor(i / 256)}.${i % 256}.0/24` },
      status: { allocatable: { cpu: '4', memory: '8Gi', pods: '250' }, capacity: { cpu: '4', memory: '8Gi', pods: '250' },
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletReady', message: 'ready' }] },
    });
  }
  for (let r = 0; r * PER_REPLICASET < podCount; r++) {
    const replicas = Math.min(PER_REPLICASET, podCount - r * PER_REPLICASET);
    const labels = { app: `app-${r}` };
    replicaSets.push(await resources.create<ReplicaSet>(resourceTypes.replicasets, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `app-${r}`, namespace: 'default', labels },
      spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'examples/hello:latest' }] } } },
    }));
  }
  for (let i = 0; i < podCount; i++) {
    const rs = replicaSets[Math.floor(i / PER_REPLICASET)]!;
    const node = i % nodeCount;
    await resources.create<Pod>(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: `${rs.metadata.name}-${i}`, namespace: 'default', labels: rs.spec.template.metadata!.labels!,
        annotations: { 'skiff.dev/pod-ip': `10.${42 + Math.floor(node / 256)}.${node % 256}.${2 + Math.floor(i / nodeCount)}` },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: { nodeName: `node-${node}`, containers: [{ name: 'main', image: 'examples/hello:latest' }] },
      status: { phase: 'Running', startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
    });
  }
}

// 3. the restart
const apiPort = await freePort();
const access = { ...await readKubeconfig(join(dataDir, 'kubeconfig')), server: `https://127.0.0.1:${apiPort}` };
const startedAt = performance.now();
// RESTART_CP_NODE_ARGS: extra node flags for the restarted control plane, e.g. "--cpu-prof --cpu-prof-dir=prof"
const second = startControlPlane(apiPort, (process.env['RESTART_CP_NODE_ARGS'] ?? '').split(' ').filter(Boolean));
const pid = second.child.pid!;
const rssMB = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);
const cpuMs = async () => {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
const client = new KubeClient(access);
while (!await client.request('GET', '/healthz').then((r) => r.status === 200, () => false)) await delay(20);
const healthzMs = performance.now() - startedAt;
const firstPage = await client.request<{ items: unknown[] }>('GET', '/api/v1/namespaces/default/pods?limit=500');
const firstListMs = performance.now() - startedAt;
const fullList = await client.request<{ items: unknown[] }>('GET', '/api/v1/pods');
const fullListMs = performance.now() - startedAt;
const rssAtFirstListMB = await rssMB();
await second.ready;
const readyMs = performance.now() - startedAt;

// 4. while the control plane catches up (watches, caches, controllers): /healthz and a read, sampled
const health: number[] = [];
const reads: number[] = [];
const windowEnd = performance.now() + watchSeconds * 1000;
let peakRssMB = rssAtFirstListMB;
while (performance.now() < windowEnd) {
  let t = performance.now();
  await client.request('GET', '/healthz');
  health.push(performance.now() - t);
  t = performance.now();
  await client.request('GET', '/api/v1/namespaces/default/pods?limit=50&labelSelector=app%3Dapp-0');
  reads.push(performance.now() - t);
  peakRssMB = Math.max(peakRssMB, await rssMB());
  await delay(200);
}
const result = {
  pods: podCount, nodes: nodeCount, replicaSets: Math.ceil(podCount / PER_REPLICASET), fillSeconds: Math.round(fillMs / 100) / 10,
  healthzMs: Math.round(healthzMs), firstListMs: Math.round(firstListMs), firstPageItems: firstPage.body.items.length,
  fullListMs: Math.round(fullListMs), fullListItems: fullList.body.items.length, readyLineMs: Math.round(readyMs),
  rssAtFirstListMB, peakRssMB, rssAfterWindowMB: await rssMB(), cpuSecondsAfterWindow: Math.round(await cpuMs() / 100) / 10,
  duringWindow: { seconds: watchSeconds, healthzMs: summarize(health), readMs: summarize(reads) },
};
await stop(second.child);
if (!keptDataDir) await rm(dataDir, { recursive: true, force: true });
console.log(JSON.stringify(result, null, 2));
process.exit(0);
