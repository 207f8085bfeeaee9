// The ways in from outside, for bench/network.ts: (e) a NodePort (the agent's node:http listener on
// a real loopback socket, NodeNetwork to the handler in-process) and (f) an Ingress (the control
// plane's gateway: a real cluster, one agent, the request carried over MQTT as a port-forward byte
// stream). Both with node:http (kept-alive connections), against the in-process handler call.
// Besides the separate runs, `added` interleaves the two calls (handler alone, then through the way
// in, N times) and takes the median of the pairs' differences: on a loaded machine the handler's own
// time swings by tens of ms between runs, and pairing cancels most of that drift.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { NodePorts } from '../agent/network/node-ports.js';
import type { NodeNetwork } from '../agent/network/node-network.js';
import { startLocalCluster } from '../cli/local-cluster.js';
import type { Endpoints } from '../control-plane/resources/kinds/services.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import type { HttpResponse } from '../runtime/pod-runtime.js';
import type { Pod } from '../api/types/pod.js';
import { summarize } from './percentiles.js';

type Call = () => Promise<HttpResponse>;

/** The median and p90 (ms) of (through - alone) over `n` interleaved pairs, after a warm-up. */
export async function added(alone: Call, through: Call, n = Number(process.env['BENCH_REQUESTS'] ?? 200), warmup = 20) {
  for (let i = 0; i < warmup; i++) { await alone(); await through(); }
  const differences: number[] = [];
  for (let i = 0; i < n; i++) {
    // alternate which goes first, so neither always runs on a warmer cache
    const order: Call[] = i % 2 === 0 ? [alone, through] : [through, alone];
    const took: number[] = [];
    for (const call of order) {
      const started = performance.now();
      const response = await call();
      took.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`status ${response.status}`);
    }
    differences.push(i % 2 === 0 ? took[1]! - took[0]! : took[0]! - took[1]!);
  }
  const summary = summarize(differences);
  return { pairs: n, addedP50Ms: summary.p50, addedP90Ms: summary.p90 };
}

type Measure = (name: string, call: () => Promise<HttpResponse>) => Promise<{ sequential: { p50: number; p99: number }; requestsPerSecond: number }>;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const keepAlive = new Agent({ keepAlive: true });

/** One GET (node:http, kept-alive connections; fetch cannot set Host) as an HttpResponse. */
function get(url: string, host?: string): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: keepAlive, ...(host ? { headers: { host } } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: [], body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** (e) web-svc as a NodePort on 127.0.0.1 (the backend pod already attached to `node`). */
export async function throughNodePort(node: NodeNetwork, measure: Measure, handler: Call) {
  const port = await freePort();
  const services = [...node.services.services];
  const nodePorts = new NodePorts({ address: '127.0.0.1', network: node });
  node.setServices(services.map((s) => (s.name === 'web-svc' ? { ...s, ports: s.ports.map((p) => ({ ...p, nodePort: port })) } : s)));
  try {
    const deadline = Date.now() + 10_000;
    while (!nodePorts.listeners.some((l) => l.listening)) {
      if (Date.now() > deadline) throw new Error('the NodePort did not listen');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const through = () => get(`http://127.0.0.1:${port}/`);
    const result = await measure('(e) through a NodePort', through);
    const pairs = await added(handler, through);
    process.stderr.write(`bench: (e) NodePort adds p50 ${pairs.addedP50Ms} ms (paired)\n`);
    return { ...result, paired: pairs };
  } finally {
    await nodePorts.close();
    node.setServices(services);
  }
}


export async function throughIngress(measure: Measure, httpHealth: Uint8Array) {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-ingress-'));
  const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents: 1, apiPort: 0, mqttPort: 0, warmWorkers: 4, ingress: { port: 0 } });
  try {
    const { cp } = cluster;
    await cp.registry.push('examples/http-health:latest', httpHealth);
    await cp.resources.create(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'main', image: 'examples/http-health:latest', ports: [{ containerPort: 8080 }] }] },
    });
    await cp.resources.create(resourceTypes.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await cp.resources.create(resourceTypes.ingresses, {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
      spec: { rules: [{ host: 'web.bench', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    const url = `http://127.0.0.1:${cp.ingress!.httpPort}/`;
    const deadline = Date.now() + 180_000;
    for (;;) {
      const endpoints = await cp.resources.get<Endpoints>(resourceTypes.endpoints, 'default', 'web').catch(() => undefined);
      const ready = (endpoints?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0);
      if (ready && (await get(url, 'web.bench').catch(() => undefined))?.status === 200) break;
      if (Date.now() > deadline) throw new Error('the Ingress did not answer 200 in time');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const handler = cluster.agents[0]!;
    const podIP = (await cp.resources.get<Pod>(resourceTypes.pods, 'default', 'web')).status?.podIP;
    const inProcess = podIP
      ? await measure('(f0) the same pod\'s handler, in the agent', () => handler.network.requestToPod(podIP, 8080, { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'web', headers: [], body: new Uint8Array() }, 30_000))
      : undefined;
    const through = () => get(url, 'web.bench');
    const ingress = await measure('(f) through the Ingress gateway', through);
    const paired = podIP ? await added(() => handler.network.requestToPod(podIP, 8080, { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'web', headers: [], body: new Uint8Array() }, 30_000), through) : undefined;
    if (paired) process.stderr.write(`bench: (f) Ingress adds p50 ${paired.addedP50Ms} ms (paired)\n`);
    return { inProcess, ingress, paired, carried: { ...cp.ingress!.carried } };
  } finally {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
