// Time for N agents of one process (`skiff up --agents N`) to all run a pod of a component none of
// them has cached: each agent with its own transpiler (what separate devices do, and `skiff up` did
// before decision 052) vs one shared component cache. One pod pinned to each node; HTTP handler
// example, so "Running" means transpiled, compiled and started.
// Usage: node dist/bench/shared-transpile.js [agents=3] [rounds=3] [example=http-hello]. Prints JSON.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { localNodeName, startLocalCluster } from '../cli/local-cluster.js';
import { packageRoot } from '../cli/package-root.js';

const agents = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);
const example = process.argv[4] ?? 'http-hello';
const PODS = '/api/v1/namespaces/default/pods';

async function allRunning(separateComponentCaches: boolean): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-transpile-'));
  const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents, apiPort: 0, mqttPort: 0, warmWorkers: 1, separateComponentCaches });
  const client = new KubeClient(await readKubeconfig(cluster.cp.kubeconfigPath));
  try {
    await cluster.cp.registry.push(`examples/${example}:latest`, await readFile(join(packageRoot(), 'wasm-examples', example, `${example}.wasm`)));
    const t0 = performance.now();
    for (let i = 1; i <= agents; i++) {
      const res = await client.request('POST', PODS, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `fresh-${i}` },
        spec: { nodeName: localNodeName(i), containers: [{ name: 'main', image: `examples/${example}:latest` }] },
      });
      if (res.status !== 201) throw new Error(`create fresh-${i}: HTTP ${res.status} ${res.text}`);
    }
    for (const deadline = Date.now() + 300_000; ;) {
      const list = await client.request<{ items: Pod[] }>('GET', PODS);
      if (list.body.items.filter((p) => p.status?.phase === 'Running').length === agents) return performance.now() - t0;
      if (Date.now() > deadline) throw new Error('pods not all Running within 300 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const separate: number[] = [];
const shared: number[] = [];
const loadBefore = loadavg()[0];
for (let r = 0; r < rounds; r++) {
  // interleaved, so a change of machine load hits both alike
  separate.push(await allRunning(true));
  shared.push(await allRunning(false));
}
console.log(JSON.stringify({
  bench: 'shared-transpile', agents, example, rounds,
  separateCachesMs: separate.map(Math.round), sharedCacheMs: shared.map(Math.round),
  medianSeparateMs: Math.round(median(separate)), medianSharedMs: Math.round(median(shared)),
  speedup: Number((median(separate) / median(shared)).toFixed(2)),
  loadAverage1m: [Number(loadBefore!.toFixed(1)), Number(loadavg()[0]!.toFixed(1))],
}, null, 2));
