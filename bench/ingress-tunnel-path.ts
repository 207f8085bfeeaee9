// The Ingress gateway's way to a pod through a node's tunnel, in one process, as CPU per request:
// a node:http front that calls IngressTunnel.forward (the gateway's tunnel client, its real mutual
// TLS), the agent's real tunnel server (NodeMesh on 127.0.0.1, a real cluster CA) and a fake pod
// handler, driven by a kept-alive node:http client. Without the other processes of
// bench/ways-in.ts, a change to the gateway's client shows as CPU per request here (less noise
// from scheduling); the whole path is measured, the client is a part of it.
// `node dist/bench/ingress-tunnel-path.js [requests per round=1500] [rounds=6]`: 2,000 warm-up
// requests, then each round's CPU (process.cpuUsage, user+system) and wall time per request; JSON.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCertificate, nodeTlsPath } from '../agent/credentials/node-certificate.js';
import { NodeMesh } from '../agent/network/mesh.js';
import { NodeNetwork } from '../agent/network/node-network.js';
import { PodNetwork } from '../agent/pods/pod-network.js';
import { systemClock } from '../api/clock.js';
import { ensureTls } from '../control-plane/api/tls.js';
import { IngressTunnel } from '../control-plane/ingress/ingress-tunnel.js';
import { NodeCertificateIssuer } from '../control-plane/nodes/node-certificates.js';

const N = Number(process.argv[2] ?? 1500);
const ROUNDS = Number(process.argv[3] ?? 6);
const WARMUP = 2000;
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-ingress-tunnel-'));
const loadBefore = load();
await ensureTls(dir, { hosts: ['127.0.0.1'] });
const issuer = new NodeCertificateIssuer(dir, []);
const nodeDir = await mkdtemp(join(dir, 'node-b-'));
await writeFile(nodeTlsPath(nodeDir), JSON.stringify({ node: 'node-b', ...(await issuer.issue('node-b', ['127.0.0.1'])) }));
const network = new NodeNetwork();
const pod = new PodNetwork({ podIP: () => '10.42.2.5' });
const body = new TextEncoder().encode('ok GET /\n');
pod.serveHttp('web/main/0', { name: 'main', ports: [{ containerPort: 8080 }] }, async () => ({ status: 200, headers: [['content-type', 'text/plain'], ['x-pod-name', 'web-0']], body }));
network.attach('10.42.2.5', { namespace: 'default', name: 'web', network: pod });
const mesh = new NodeMesh({ certificate: new NodeCertificate({ node: 'node-b', token: 'unused', dataDir: nodeDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
await mesh.start(network);
const target = { node: 'node-b', address: '127.0.0.1', port: mesh.port!, podIP: '10.42.2.5', podPort: 8080 };
const tunnel = new IngressTunnel({ certificate: () => issuer.issueGateway(new Date()), clock: systemClock });
// the headers the gateway forwards for the bench's request (forwardedHeaders in ingress-gateway.ts)
const forwarded = { host: 'web.bench', 'user-agent': 'bench', accept: '*/*', 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'web.bench' };
const front = createServer((req, res) => {
  tunnel.forward(target, 'GET', req.url ?? '/', forwarded, Buffer.alloc(0), res, 60_000).then(
    (outcome) => { if (outcome !== 'done') res.writeHead(599).end(); },
    () => res.writeHead(598).end(),
  );
});
await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
const port = (front.address() as AddressInfo).port;
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise<number>((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port, path: '/', agent: keepAlive, headers: { host: 'web.bench' } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
  });
  req.on('error', reject);
  req.end();
});

try {
  for (let i = 0; i < WARMUP; i++) if ((await get()) !== 200) throw new Error('the tunnel path did not answer 200');
  const rounds: Array<{ cpuUsPerRequest: number; wallUsPerRequest: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < N; i++) await get();
    const used = process.cpuUsage(cpu);
    rounds.push({ cpuUsPerRequest: Math.round((used.user + used.system) / N), wallUsPerRequest: Math.round(((performance.now() - started) * 1000) / N) });
  }
  const cpu = rounds.map((r) => r.cpuUsPerRequest).sort((a, b) => a - b);
  console.log(JSON.stringify({
    requestsPerRound: N, warmup: WARMUP, rounds, cpuUsPerRequestMin: cpu[0], cpuUsPerRequestMedian: cpu[Math.floor(cpu.length / 2)],
    tunnelConnections: tunnel.connections, loadAverageBefore: loadBefore, loadAverageAfter: load(),
  }, null, 2));
} finally {
  keepAlive.destroy();
  tunnel.close();
  front.close();
  await mesh.close();
  await rm(dir, { recursive: true, force: true });
}
