// Agent footprint: the resident memory of a real `skiff agent` process (spawned from dist/, joined
// over MQTT to a control plane in another process), idle and with 1 and 10 running sleep pods, and
// how long each of those pods took to start (create -> Running, seen by a watch).
// Usage: node dist/bench/agent-footprint.js [sampleMs=15000] [warmWorkers]. Prints JSON. Each state
// is sampled for sampleMs: V8's memory reducer shrinks the heap only after several idle seconds,
// so `firstMiB` is the RSS just after a change and `lastMiB` the settled one.
// FOOTPRINT_INSECURE=1: plain mqtt:// (--insecure-mqtt) to compare with the default mqtts://.
// FOOTPRINT_IDLE_ONLY=1: stop after the idle sample (with a V8 heap breakdown of the agent).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { summarize } from './percentiles.js';

const sampleMs = Number(process.argv[2] ?? 15_000);
const warmWorkers = process.argv[3];
/** The goal reads "60 MB": 60 x 10^6 bytes (57.2 MiB). */
const GOAL_IDLE_BYTES = 60_000_000;
const NODE = 'footprint';
const PODS = '/api/v1/namespaces/default/pods';

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-footprint-'));
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL'))); // never leave a process behind

const insecure = process.env['FOOTPRINT_INSECURE'] === '1';
const idleOnly = process.env['FOOTPRINT_IDLE_ONLY'] === '1';

function skiff(args: string[], readyText?: string): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, ['bin/skiff.js', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  if (!readyText) return Promise.resolve({ child, out: '' });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(readyText)) resolve({ child, out });
    });
    child.once('exit', (code) => reject(new Error(`skiff ${args[0]} exited with ${code}`)));
  });
}

/** Polls (a benchmark may; tests wait on watches) until `check` holds, at most `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

const procStatusKiB = async (pid: number, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** RSS sampled every 250 ms for `ms`: the first, last and largest value, in MiB. */
async function sampleRss(pid: number, ms: number): Promise<{ firstMiB: number; lastMiB: number; maxMiB: number }> {
  const samples: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await delay(250)) samples.push(await procStatusKiB(pid, 'VmRSS'));
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  return { firstMiB: mib(samples[0]!), lastMiB: mib(samples.at(-1)!), maxMiB: mib(Math.max(...samples)) };
}

const { out } = await skiff(['control-plane', '--data-dir', join(dataDir, 'cp'), '--api-port', '0', '--mqtt-port', '0', '--log-level', 'error',
  ...(insecure ? ['--insecure-mqtt'] : [])], 'Join agents with');
const mqttUrl = /MQTT (mqtts?:\/\/[^\s,]+:\d+)/.exec(out)![1]!; // the default: TLS with the cluster CA
const token = (await readFile(join(dataDir, 'cp', 'node-token'), 'utf8')).trim();
const client = new KubeClient(await readKubeconfig(join(dataDir, 'cp', 'kubeconfig')));

const agentArgs = ['agent', '--server', mqttUrl, '--ca-file', join(dataDir, 'cp', 'ca.crt'), '--token', token, '--name', NODE, '--data-dir', join(dataDir, 'agent'), '--log-level', 'warn'];
if (warmWorkers !== undefined) agentArgs.push('--warm-workers', warmWorkers);
if (insecure) agentArgs.push('--insecure-mqtt');
const { child: agent } = await skiff(agentArgs);
const pid = agent.pid!;

const nodeReady = async () => {
  const res = await client.request<Node>('GET', `/api/v1/nodes/${NODE}`);
  return res.status === 200 && !!res.body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
};
await until('the node to be Ready', nodeReady);
await delay(1000); // let start-up garbage be collected before sampling
const idle = await sampleRss(pid, sampleMs);
const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
const nativeAddons = [...new Set(maps.split('\n').filter((l) => l.endsWith('.node')).map((l) => l.split('/').at(-1)!))];
if (idleOnly) {
  const smaps = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Math.round(Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(smaps)?.[1] ?? NaN) / 102.4) / 10;
  client.close();
  agent.kill('SIGTERM');
  children.forEach((c) => c.kill('SIGTERM'));
  await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  process.stdout.write(`${JSON.stringify({
    benchmark: 'agent-footprint (idle only)', mqtt: insecure ? 'mqtt (--insecure-mqtt)' : 'mqtts', machine: { cpus: cpus().length, node: process.version },
    idleRssMiB: idle, rssAnonMiB: field('Anonymous'), rssFileMiB: field('Rss') - field('Anonymous'),
    goal: { idleRssMiB: Math.round((GOAL_IDLE_BYTES / 1024 / 1024) * 10) / 10, met: idle.lastMiB * 1024 * 1024 <= GOAL_IDLE_BYTES },
  }, null, 2)}\n`);
  process.exit(0);
}

// one watch sees every pod; each waiter resolves when its pod first reports Running
const waiters = new Map<string, (at: number) => void>();
const abort = new AbortController();
const podList = await client.request<{ metadata: { resourceVersion: string } }>('GET', PODS);
void client.watch<Pod>(`${PODS}?resourceVersion=${podList.body.metadata.resourceVersion}`, (e) => {
  const done = waiters.get(e.object.metadata.name!);
  if (done && e.object.status?.phase === 'Running') {
    waiters.delete(e.object.metadata.name!);
    done(performance.now());
  }
}, abort.signal);

const podStartMs: number[] = [];
/** Creates sleep pods one at a time up to `total`, each once the previous one runs. */
async function runSleepPods(total: number): Promise<void> {
  for (let i = podStartMs.length; i < total; i++) {
    const name = `sleep-${i}`;
    const seen = new Promise<number>((resolve, reject) => {
      waiters.set(name, resolve);
      setTimeout(() => reject(new Error(`${name} not Running within 60 s`)), 60_000).unref();
    });
    const t0 = performance.now();
    const res = await client.request('POST', PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'footprint' } },
      spec: { nodeName: NODE, containers: [{ name: 'sleep', image: 'examples/sleep:latest' }] },
    });
    if (res.status !== 201) throw new Error(`create ${name}: HTTP ${res.status} ${res.text}`);
    podStartMs.push((await seen) - t0);
  }
  await delay(1000);
}

await runSleepPods(1);
const onePod = await sampleRss(pid, sampleMs);
await runSleepPods(10);
const tenPods = await sampleRss(pid, sampleMs);
abort.abort();
const hwmMiB = Math.round(((await procStatusKiB(pid, 'VmHWM')) / 1024) * 10) / 10;

client.close();
agent.kill('SIGTERM');
await new Promise((resolve) => agent.once('exit', resolve));
children.forEach((c) => c.kill('SIGTERM'));
await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);

process.stdout.write(`${JSON.stringify({
  benchmark: 'agent-footprint',
  what: '`skiff agent` from dist/ joined over MQTT to a control plane in another process; VmRSS sampled every 250 ms',
  machine: { cpus: cpus().length, node: process.version, arch: process.arch },
  warmWorkers: warmWorkers === undefined ? 'default' : Number(warmWorkers),
  idleRssMiB: idle,
  oneSleepPodRssMiB: onePod,
  tenSleepPodsRssMiB: tenPods,
  podStartMs: {
    what: 'create -> Running seen by a watch, one pod at a time; the first one also transpiles the sleep component',
    first: Math.round(podStartMs[0]! * 10) / 10,
    next9: summarize(podStartMs.slice(1)),
  },
  peakRssMiB: hwmMiB,
  nativeAddonsLoaded: nativeAddons,
  goal: { idleRssMiB: Math.round((GOAL_IDLE_BYTES / 1024 / 1024) * 10) / 10, met: idle.lastMiB * 1024 * 1024 <= GOAL_IDLE_BYTES },
}, null, 2)}\n`);
process.exit(0);
