// Pod startup latency: create -> Running (or Succeeded) as seen by a watch, with a warm component
// cache, on an all-in-one cluster (HTTPS API, SQLite, embedded broker, one agent over MQTT).
// Usage: node dist/bench/startup.js [pods=100] [burst=20] [warmup=20]. Prints JSON. The first pods
// after start pay for JIT warm-up of every code path (and the first one for the transpile): they
// are reported on their own as `warmupMs`, and not mixed into the steady-state figures.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { startLocalCluster } from '../cli/local-cluster.js';
import { pushExamples } from '../cli/examples.js';
import { summarize } from './percentiles.js';

const pods = Number(process.argv[2] ?? 100);
const burst = Number(process.argv[3] ?? 20);
const warmup = Math.max(1, Number(process.argv[4] ?? 20));
const PODS = '/api/v1/namespaces/default/pods';

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents: 1, apiPort: 0, mqttPort: 0, warmWorkers: 4 });
await pushExamples(cluster.cp.registry);
const client = new KubeClient(await readKubeconfig(cluster.cp.kubeconfigPath));

// one watch sees every pod; each waiter resolves when its pod first reports Running/Succeeded
const waiters = new Map<string, (at: number) => void>();
const started = (pod: Pod) => pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded';
const abort = new AbortController();
const list = await client.request<{ metadata: { resourceVersion: string } }>('GET', PODS);
void client.watch<Pod>(`${PODS}?resourceVersion=${list.body.metadata.resourceVersion}`, (e) => {
  if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
  const done = waiters.get(e.object.metadata.name!);
  if (done && started(e.object)) {
    waiters.delete(e.object.metadata.name!);
    done(performance.now());
  }
}, abort.signal);

const manifest = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'startup' } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'examples/hello:latest', env: [{ name: 'WHO', value: name }] }] },
});

async function startOne(name: string): Promise<number> {
  const seen = new Promise<number>((resolve) => waiters.set(name, resolve));
  const t0 = performance.now();
  const res = await client.request('POST', PODS, manifest(name));
  if (res.status !== 201) throw new Error(`create ${name}: HTTP ${res.status} ${res.text}`);
  return (await seen) - t0;
}

// warm-up: the first pod transpiles and caches the component, the next ones warm the JIT
const warmupSamples: number[] = [];
for (let i = 0; i < warmup; i++) warmupSamples.push(await startOne(`warmup-${i}`));

const sequential: number[] = [];
for (let i = 0; i < pods; i++) sequential.push(await startOne(`seq-${i}`));

const burstSamples: number[] = [];
for (let done = 0; done < pods; done += burst) {
  const names = Array.from({ length: Math.min(burst, pods - done) }, (_, k) => `burst-${done + k}`);
  burstSamples.push(...(await Promise.all(names.map(startOne))));
}

abort.abort();
client.close();
await cluster.stop();
await rm(dataDir, { recursive: true, force: true });

const seq = summarize(sequential);
process.stdout.write(`${JSON.stringify({
  benchmark: 'startup',
  what: 'pod create (HTTPS POST) -> Running or Succeeded seen by a watch; warm component cache; 1 agent over MQTT; SQLite store',
  machine: { cpus: cpus().length, node: process.version },
  warmupMs: { firstPod: Math.round(warmupSamples[0]! * 100) / 100, ...summarize(warmupSamples.slice(1)) },
  sequentialMs: seq,
  burstMs: { concurrency: burst, ...summarize(burstSamples) },
  goal: { p99Ms: 50, met: seq.p99 <= 50 },
}, null, 2)}\n`);
process.exit(0);
