// Fleet benchmark: N simulated agents (real MQTT clients speaking the node protocol: credential
// exchange, birth, node status, leases, Will; no runtimes) against one control plane running in
// its own process (`skiff control-plane`, embedded broker), so its CPU and memory are its own.
// Usage: node dist/bench/fleet.js [nodes=1000] [leaseIntervalMs=10000] [windowMs=30000]. Prints JSON.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { microTime } from '../api/clock.js';
import { PROTOCOL_VERSION } from '../api/mqtt/messages.js';
import { nodeCredentialPath } from '../api/mqtt/node-credential.js';
import { topics, agentSubscriptions } from '../api/mqtt/topics.js';
import type { Node } from '../api/types/node.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';

const nodes = Number(process.argv[2] ?? 1000);
const leaseIntervalMs = Number(process.argv[3] ?? 10_000);
const windowMs = Number(process.argv[4] ?? 30_000);
const CONCURRENCY = Number(process.env["FLEET_CONCURRENCY"] ?? 50);

const dataDir = await mkdtemp(join(tmpdir(), 'skiff-fleet-'));
const cp = spawn(process.execPath, ['bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise<string>((resolve, reject) => {
  let out = '';
  cp.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('Join agents with')) resolve(out);
  });
  cp.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
});
process.on('exit', () => cp.kill('SIGKILL')); // never leave the control plane behind
const mqttUrl = /MQTT (mqtt:\/\/[^\s,]+:\d+)/.exec(ready)![1]!;
const bootstrapToken = (await readFile(join(dataDir, 'node-token'), 'utf8')).trim();
const client = new KubeClient(await readKubeconfig(join(dataDir, 'kubeconfig')));

const cpuMs = async () => {
  const fields = (await readFile(`/proc/${cp.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
};
const rssBytes = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${cp.pid}/status`, 'utf8'))![1]) * 1024;

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

interface SimNode { name: string; client: MqttClient; sessionId: string; seq: number; timer?: NodeJS.Timeout }
const names = Array.from({ length: nodes }, (_, i) => `sim-${String(i).padStart(5, '0')}`);
const sims: SimNode[] = [];
let leasesSent = 0;
let clientErrors = 0;

const envelope = (n: SimNode) => ({ v: PROTOCOL_VERSION, sessionId: n.sessionId, seq: n.seq++, ts: Date.now(), node: n.name });
const status = (n: SimNode) => ({
  ...envelope(n),
  labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux' },
  capacity: { cpu: '4', memory: '1Gi', pods: '110' }, allocatable: { cpu: '4', memory: '1Gi', pods: '110' },
  conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }],
  addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0-skiff-sim' }, observedGeneration: 0,
});

const joinStarted = performance.now();
await pool(names, async (name) => {
  // credential exchange over HTTPS (the bootstrap token may ask once per node)
  const res = await client.request<{ credential: string }>('POST', nodeCredentialPath(name), {}, { authorization: `Bearer ${bootstrapToken}` });
  const sessionId = `s-${name}`;
  const sim: SimNode = { name, sessionId, seq: 0, client: undefined as unknown as MqttClient };
  sim.client = await mqtt.connectAsync(mqttUrl, {
    protocolVersion: 4, clientId: name, username: name, password: res.body.credential, clean: true, keepalive: 30, reconnectPeriod: 0,
    will: { topic: topics.presence(name), payload: Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, sessionId, online: false, node: name })), qos: 1, retain: true },
  });
  sim.client.on('error', (error) => {
    clientErrors++;
    if (clientErrors <= 3) console.error(`${name}: ${error.message}`);
  });
  await sim.client.subscribeAsync(agentSubscriptions(name), { qos: 1 });
  await sim.client.publishAsync(topics.presence(name), JSON.stringify({ v: PROTOCOL_VERSION, sessionId, online: true, node: name, ts: Date.now() }), { qos: 1, retain: true });
  await sim.client.publishAsync(topics.status(name), JSON.stringify(status(sim)), { qos: 1 });
  sims.push(sim);
});
const joinMs = performance.now() - joinStarted;
const readyNodes = async () => (await client.request<{ items: Node[] }>('GET', '/api/v1/nodes')).body.items
  .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
const deadline = Date.now() + 120_000;
while ((await readyNodes()) < nodes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
const registeredMs = performance.now() - joinStarted;

// steady state: every node renews its lease every leaseIntervalMs, spread evenly
for (const [i, sim] of sims.entries()) {
  setTimeout(() => {
    const renew = () => {
      leasesSent++;
      sim.client.publish(topics.lease(sim.name), JSON.stringify({ ...envelope(sim), renewTime: microTime(Date.now()), leaseDurationSeconds: 40 }), { qos: 0 });
    };
    renew();
    sim.timer = setInterval(renew, leaseIntervalMs);
  }, (i * leaseIntervalMs) / nodes);
}
await new Promise((r) => setTimeout(r, leaseIntervalMs)); // all timers running
const bytesOf = () => sims.reduce((sum, s) => sum + (s.client.stream as unknown as { bytesRead: number; bytesWritten: number }).bytesRead + (s.client.stream as unknown as { bytesWritten: number }).bytesWritten, 0);
const [cpu0, leases0, bytes0, t0] = [await cpuMs(), leasesSent, bytesOf(), performance.now()];
await new Promise((r) => setTimeout(r, windowMs));
const [cpu1, leases1, bytes1, t1] = [await cpuMs(), leasesSent, bytesOf(), performance.now()];
const elapsedMs = t1 - t0;
const leaseList = (await client.request<{ items: Array<{ spec: { renewTime: string } }> }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).body.items;
const freshLeases = leaseList.filter((l) => Date.now() - Date.parse(l.spec.renewTime) < leaseIntervalMs * 2).length;

// abrupt loss: the socket vanishes without DISCONNECT; the broker publishes the Will
const victim = sims[Math.floor(nodes / 2)]!;
clearInterval(victim.timer);
const lostAt = performance.now();
(victim.client.stream as unknown as { destroy(): void }).destroy();
let notReadyMs: number | null = null;
while (performance.now() - lostAt < 60_000) {
  const node = (await client.request<Node>('GET', `/api/v1/nodes/${victim.name}`)).body;
  if (node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') {
    notReadyMs = Math.round(performance.now() - lostAt);
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}

console.log(JSON.stringify({
  bench: 'fleet',
  nodes,
  leaseIntervalMs,
  windowMs: Math.round(elapsedMs),
  joinAllMs: Math.round(joinMs),
  allNodesReadyMs: Math.round(registeredMs),
  controlPlane: { cpuCores: Number(((cpu1 - cpu0) / elapsedMs).toFixed(3)), rssMB: Math.round((await rssBytes()) / 2 ** 20) },
  leaseMessagesPerSecond: Math.round(((leases1 - leases0) * 1000) / elapsedMs),
  leasesFreshInApi: `${freshLeases}/${nodes}`,
  bytesPerNodePerMinute: Math.round(((bytes1 - bytes0) / nodes) * (60_000 / elapsedMs)),
  abruptLossToNotReadyMs: notReadyMs,
  simulatedClientErrors: clientErrors,
  abruptLossToPodsElsewhereMs: null,
  note: 'pods elsewhere: not measured (simulated nodes run no pods; eviction/rescheduling controllers are not part of this bench)',
}, null, 2));

for (const s of sims) {
  clearInterval(s.timer);
  s.client.end(true);
}
client.close();
cp.kill('SIGTERM');
await new Promise((r) => cp.once('exit', r));
await rm(dataDir, { recursive: true, force: true });
