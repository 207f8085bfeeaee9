// API latency under load: a `skiff control-plane` process (from dist, SQLite store) driven over HTTPS by
// 50 concurrent clients (create/get/list/patch of ConfigMaps), then watch fan-out: 1000 open watches and the
// time from a write to the last watcher receiving its event.
// Usage: node dist/bench/api.js [requestsPerVerb=2000] [clients=50] [watchers=1000] [store=sqlite]. Prints JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { KubeClient } from '../cli/kube-client.js';
import { summarize } from './percentiles.js';

const perVerb = Number(process.argv[2] ?? 2000);
const clients = Number(process.argv[3] ?? 50);
const watchers = Number(process.argv[4] ?? 1000);
const storeUrl = process.argv[5] ?? 'sqlite';
const fanoutWrites = 20;
const listSize = 100;

async function startServer(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0',
    '--store', storeUrl, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('control plane is ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`control-plane exited with ${code}: ${out}`)));
  });
  return child;
}

/** Runs `total` calls of `op` from `concurrency` loops; returns each call's latency (ms). */
async function measure(total: number, concurrency: number, op: (i: number) => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now();
      const status = await op(i);
      if (status >= 300) throw new Error(`request ${i} answered ${status}`);
      samples.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return samples;
}

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-api-'));
const server = await startServer(dataDir);
try {
  const access = await readKubeconfig(join(dataDir, 'kubeconfig'));
  const client = new KubeClient(access);
  const ns = (name: string) => client.request('POST', '/api/v1/namespaces', { metadata: { name } });
  await ns('bench');
  await ns('bench-list');
  await ns('fanout');
  const cms = '/api/v1/namespaces/bench/configmaps';
  const cm = (name: string) => ({ metadata: { name, labels: { bench: 'api' } }, data: { value: name } });

  // Warm-up (not measured): opens the clients' keep-alive TLS connections and lets the JIT settle.
  await measure(clients * 10, clients, async () => (await client.request('GET', '/api/v1/namespaces/bench')).status);
  const phase = async (total: number, op: (i: number) => Promise<number>) => {
    const t0 = performance.now();
    const samples = await measure(total, clients, op);
    return { samples, perSecond: Math.round((total * 1000) / (performance.now() - t0)) };
  };
  const createRun = await phase(perVerb, async (i) => (await client.request('POST', cms, cm(`cm-${i}`))).status);
  const create = createRun.samples;
  const getRun = await phase(perVerb, async (i) => (await client.request('GET', `${cms}/cm-${(i * 7919) % perVerb}`)).status);
  const get = getRun.samples;
  const patchRun = await phase(perVerb, async (i) => (await client.request('PATCH', `${cms}/cm-${(i * 104729) % perVerb}`,
    { data: { value: `v${i}` } }, { 'content-type': 'application/merge-patch+json' })).status);
  const patch = patchRun.samples;
  for (let i = 0; i < listSize; i++) await client.request('POST', '/api/v1/namespaces/bench-list/configmaps', cm(`l-${i}`));
  const listRequests = Math.max(1, Math.floor(perVerb / 4));
  const listRun = await phase(listRequests, async () => (await client.request('GET', '/api/v1/namespaces/bench-list/configmaps')).status);
  const list = listRun.samples;

  // Watch fan-out: `watchers` streams on one namespace; each write is timed until the last stream has its event.
  const watchAgent = new Agent({ ca: access.caCert, keepAlive: true, maxSockets: watchers + 10 });
  const rv = ((await client.request<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces/fanout/configmaps')).body).metadata.resourceVersion;
  const pending = new Map<string, { remaining: number; done: (at: number) => void }>();
  const abort = new AbortController();
  const opened = await Promise.all(Array.from({ length: watchers }, () => new Promise<void>((resolve, reject) => {
    const req = request(new URL(`/api/v1/namespaces/fanout/configmaps?watch=true&resourceVersion=${rv}`, access.server), {
      agent: watchAgent, signal: abort.signal, headers: { authorization: `Bearer ${access.token}`, accept: 'application/json' },
    }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch answered ${res.statusCode}`));
      resolve();
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const event = JSON.parse(buffered.slice(0, nl)) as { object: { metadata: { name: string } } };
          buffered = buffered.slice(nl + 1);
          const p = pending.get(event.object.metadata.name);
          if (p && --p.remaining === 0) p.done(performance.now());
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => (abort.signal.aborted ? undefined : reject(e)));
    req.end();
  })));
  const fanout: number[] = [];
  const writeAck: number[] = [];
  for (let i = 0; i < fanoutWrites; i++) {
    const name = `f-${i}`;
    const t0 = performance.now();
    const last = new Promise<number>((resolve) => pending.set(name, { remaining: opened.length, done: resolve }));
    await client.request('POST', '/api/v1/namespaces/fanout/configmaps', cm(name));
    writeAck.push(performance.now() - t0);
    fanout.push((await last) - t0);
  }
  abort.abort();
  watchAgent.destroy();
  client.close();

  const mutating = summarize([...create, ...patch]);
  console.log(JSON.stringify({
    bench: 'api',
    store: storeUrl,
    cpus: cpus().length,
    clients,
    latencyMs: { create: summarize(create), get: summarize(get), list: { ...summarize(list), items: listSize }, patch: summarize(patch) },
    requestsPerSecond: { create: createRun.perSecond, get: getRun.perSecond, list: listRun.perSecond, patch: patchRun.perSecond },
    mutatingP99Ms: mutating.p99,
    mutatingP99GoalMs: 50,
    watchFanout: { watchers: opened.length, writes: fanoutWrites, writeToLastWatcherMs: summarize(fanout), writeAckMs: summarize(writeAck) },
  }, null, 2));
} finally {
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
  await rm(dataDir, { recursive: true, force: true });
}
