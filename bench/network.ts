// Pod network benchmark: prints JSON. Requests/s and latency (ms) of (a) the http-health handler
// called directly in-process, (b) the same through a Service on this node (NodeNetwork routing, the
// agent's side of a guest's request), (c) a guest (http-fetch) calling the Service: the whole
// guest -> agent -> guest chain, against (d) the same guest answering by itself ($REPLY). (c) - (d)
// is what one outgoing request costs a guest: the message hops, the routing and the callee's
// instance. TCP (wasi:sockets) pod to pod through a Service: the tcp-client example against
// tcp-echo, echo throughput (MiB/s of payload, carried both ways at once) and 64-byte round
// trips p50/p99. (e) a NodePort and (f) the Ingress gateway from outside, against the handler
// in-process (bench/network-entry.ts). Across nodes (network-mesh.ts): a real two-agent cluster,
// node-1 to a pod of node-2 directly through the tunnel and by relay through the control plane;
// raw TCP echo same node / across nodes direct / by relay (network-tcp-nodes.ts). Run with
// `npm run bench:network`; `BENCH_PARTS=http` runs only the HTTP handler paths (a)-(d), the
// Service hop paired, and the instantiation cost (a fresh instance per request against a reused one,
// decision 053).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeNetwork } from '../agent/network/node-network.js';
import { acrossNodes, tunnelOnly } from './network-mesh.js';
import { tcpAcrossNodes } from './network-tcp-nodes.js';
import { udpRoundTrips } from './network-udp.js';
import { udpAcrossNodesByRelay } from './network-udp-relay.js';
import { PodNetwork } from '../agent/pods/pod-network.js';
import { digestOf } from '../runtime/component-digest.js';
import type { HttpRequest, HttpResponse, PodNetworkPorts, RunningContainer } from '../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { summarize } from './percentiles.js';
import { added, throughIngress, throughNodePort } from './network-entry.js';
import type { HttpHandlerContainer } from '../runtime/http-handler-container.js';

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const SEQUENTIAL = Number(process.env['BENCH_REQUESTS'] ?? 200);
const CONCURRENT = SEQUENTIAL * 2;
const IN_FLIGHT = 4;
const ONLY_HTTP = process.env['BENCH_PARTS'] === 'http';

function examplePath(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'wasm-examples', name, `${name}.wasm`);
    if (existsSync(file)) return file;
  }
  throw new Error(`wasm-examples/${name} not found`);
}

const example = (name: string): Uint8Array => new Uint8Array(readFileSync(examplePath(name)));

const request = (authority: string, path = '/'): HttpRequest => ({ method: 'GET', pathWithQuery: path, scheme: 'http', authority, headers: [], body: new Uint8Array() });

async function measure(name: string, call: () => Promise<HttpResponse>) {
  for (let i = 0; i < 20; i++) await call(); // warm: workers, evaluated sources
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    const response = await call();
    latencies.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${name}: status ${response.status}`);
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < CONCURRENT) await call();
  }));
  const seconds = (performance.now() - started) / 1000;
  const result = { sequential: summarize(latencies), requestsPerSecond: Math.round(CONCURRENT / seconds), inFlight: IN_FLIGHT };
  log(`${name}: p50 ${result.sequential.p50} ms, p99 ${result.sequential.p99} ms, ${result.requestsPerSecond} req/s`);
  return result;
}

/** What routing by Service name adds, with an instant handler (no guest): microseconds per request. */
async function routingOverhead(node: NodeNetwork) {
  const instant: HttpResponse = { status: 200, headers: [], body: new Uint8Array() };
  const pod = new PodNetwork({ podIP: () => '10.42.0.9' });
  pod.serveHttp('instant/0', { name: 'instant', ports: [{ containerPort: 8080 }] }, async () => instant);
  const detach = node.attach('10.42.0.9', { namespace: 'default', name: 'instant', network: pod });
  const services = [...node.services.services];
  node.setServices([...services, { namespace: 'default', name: 'instant', clusterIP: '10.96.0.9', ports: [{ port: 80 }], endpoints: [{ ips: ['10.42.0.9'], ports: [{ port: 8080 }] }] }]);
  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const started = performance.now();
    await node.httpRequest({ namespace: 'default', network: pod }, request('instant.default.svc.cluster.local'), 1_000);
    samples.push((performance.now() - started) * 1000);
  }
  node.setServices(services);
  detach();
  const summary = summarize(samples.slice(5_000));
  log(`routing only: p50 ${summary.p50} us, p99 ${summary.p99} us`);
  return { p50: summary.p50, p99: summary.p99 };
}

const TCP_BYTES = Number(process.env['BENCH_TCP_BYTES'] ?? 32 << 20);
const TCP_PINGS = Number(process.env['BENCH_TCP_PINGS'] ?? 2_000);

/** tcp-client in one pod -> echo-svc (ClusterIP) -> tcp-echo in another pod, both guests on this node. */
async function tcpEcho(runtime: WasmPodRuntime, node: NodeNetwork) {
  const output = new Map<string, string>();
  const start = async (name: string, network: PodNetwork, args: string[], env: Array<[string, string]> = []) => {
    const bytes = example(name);
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    output.set(name, '');
    return runtime.start({
      id: `${name}/0`, component, args, env, network: network.ports(`${name}/0`, name),
      onOutput: (_stream, chunk) => output.set(name, output.get(name)! + Buffer.from(chunk).toString()),
    });
  };
  const podNet = (ip: string): PodNetwork => {
    const network: PodNetwork = new PodNetwork({
      podIP: () => ip,
      resolve: async (name) => node.resolve('default', name),
      connect: async (host, port, localPort) => node.connect({ namespace: 'default', network }, host, port, localPort),
    });
    node.attach(ip, { namespace: 'default', name: ip, network });
    return network;
  };
  const services = [...node.services.services];
  node.setServices([...services, { namespace: 'default', name: 'echo-svc', clusterIP: '10.96.0.20', ports: [{ port: 7000 }], endpoints: [{ ips: ['10.42.0.5'], ports: [{ port: 7000 }] }] }]);
  const echo = await start('tcp-echo', podNet('10.42.0.5'), ['tcp-echo'], [['PORT', '7000']]);
  const deadline = Date.now() + 120_000;
  while (!output.get('tcp-echo')!.includes('listening on')) {
    if (Date.now() > deadline) throw new Error(`tcp-echo did not listen: ${output.get('tcp-echo')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const client = await start('tcp-client', podNet('10.42.0.6'), ['tcp-client', 'echo-svc', '7000', String(TCP_BYTES), String(TCP_PINGS)]);
  const exit = await client.exited;
  const line = output.get('tcp-client')!;
  const parsed = /echoed (\d+) bytes in ([\d.]+) ms \(([\d.]+) MB\/s\), (\d+) pings p50 (\d+) us p99 (\d+) us/.exec(line);
  if (exit.exitCode !== 0 || !parsed) throw new Error(`tcp-client failed (${exit.exitCode}): ${line}`);
  await echo.stop(5_000);
  node.setServices(services);
  const result = {
    bytes: Number(parsed[1]), echoMs: Number(parsed[2]), echoThroughputMBps: Number(parsed[3]),
    pings: Number(parsed[4]), roundTripP50Ms: Number(parsed[5]) / 1000, roundTripP99Ms: Number(parsed[6]) / 1000,
  };
  log(`tcp pod -> Service -> pod: ${result.echoThroughputMBps} MB/s echoed, round trip p50 ${result.roundTripP50Ms} ms, p99 ${result.roundTripP99Ms} ms`);
  return result;
}

async function main(): Promise<void> {
  const runtime = new WasmPodRuntime({ warmWorkers: 4 });
  const node = new NodeNetwork();
  const start = async (name: string, bytes: Uint8Array, env: Array<[string, string]>, network?: PodNetworkPorts, handlerInstances?: 'fresh'): Promise<RunningContainer> => {
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    return runtime.start({ id: `${name}/0`, component, args: [name], env, ...(network ? { network } : {}), ...(handlerInstances ? { handlerInstances } : {}) });
  };
  try {
    // the backend pod, reachable at 10.42.0.2:8080 and as web-svc:80
    const backendNet = new PodNetwork({ podIP: () => '10.42.0.2' });
    node.attach('10.42.0.2', { namespace: 'default', name: 'web', network: backendNet });
    const backend = await start('web', example('http-health'), [], backendNet.ports('web/0', 'web'));
    backendNet.serveHttp('web/0', { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] }, (r, ms) => backend.handleHttp!(r, ms));
    node.setServices([{ namespace: 'default', name: 'web-svc', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], endpoints: [{ ips: ['10.42.0.2'], ports: [{ name: 'http', port: 8080 }] }] }]);
    // the frontend pod: its guest calls the Service
    const frontendNet: PodNetwork = new PodNetwork({ podIP: () => '10.42.0.3', route: (r, ms) => node.httpRequest({ namespace: 'default', network: frontendNet }, r, ms) });
    node.attach('10.42.0.3', { namespace: 'default', name: 'frontend', network: frontendNet });
    const frontend = await start('frontend', example('http-fetch'), [['TARGET_URL', 'http://web-svc/']], frontendNet.ports('frontend/0', 'frontend'));
    const alone = await start('alone', example('http-fetch'), [['REPLY', 'alone']]);

    // the same handler with a fresh instance per request: what instantiation costs (decision 053)
    const freshBackend = await start('web-fresh', example('http-health'), [], undefined, 'fresh');

    const routing = await routingOverhead(node);
    const direct = await measure('(a) handler in-process', () => backend.handleHttp!(request('10.42.0.2:8080'), 30_000));
    const service = await measure('(b) through the Service', () => node.httpRequest({ namespace: 'default', network: frontendNet }, request('web-svc'), 30_000));
    const servicePaired = await added(() => backend.handleHttp!(request('10.42.0.2:8080'), 30_000), () => node.httpRequest({ namespace: 'default', network: frontendNet }, request('web-svc'), 30_000));
    log(`(b) - (a), paired: p50 ${servicePaired.addedP50Ms} ms, p90 ${servicePaired.addedP90Ms} ms`);
    const fresh = await measure('(a0) handler in-process, fresh instance per request', () => freshBackend.handleHttp!(request('10.42.0.2:8080'), 30_000));
    const instances = instantiationCost(backend, freshBackend);
    log(`instantiate p50 ${instances.fresh.instantiateMs.p50} ms, handle p50 ${instances.fresh.handleMs.p50} ms (fresh), handle p50 ${instances.reused.handleMs.p50} ms (reused)`);
    const guestAlone = await measure('(d) guest answering alone', () => alone.handleHttp!(request('x'), 30_000));
    const chain = await measure('(c) guest -> Service -> guest', () => frontend.handleHttp!(request('frontend'), 30_000));
    const tcp = ONLY_HTTP ? undefined : await tcpEcho(runtime, node);
    const nodePort = ONLY_HTTP ? undefined : await throughNodePort(node, measure, () => backend.handleHttp!(request('10.42.0.2:8080'), 30_000));
    const fromOutside = ONLY_HTTP ? undefined : await throughIngress(measure, example('http-health'));
    const tunnel = await tunnelOnly();
    log(`tunnel only (instant handler): p50 ${tunnel.p50} ms, p99 ${tunnel.p99} ms`);
    const mesh = await acrossNodes(examplePath('http-health'), measure);
    const tcpNodes = ONLY_HTTP ? undefined : await tcpAcrossNodes(examplePath, log);
    const udp = ONLY_HTTP ? undefined : await udpRoundTrips(examplePath, log);
    const udpRelay = ONLY_HTTP ? undefined : await udpAcrossNodesByRelay(examplePath, log);
    const check = new TextDecoder().decode((await frontend.handleHttp!(request('frontend'), 30_000)).body);
    if (!check.startsWith('fetched http://web-svc/: 200 ok GET /')) throw new Error(`unexpected chain answer: ${check}`);
    console.log(JSON.stringify({
      requests: SEQUENTIAL,
      routingOnlyMicroseconds: routing,
      handlerInProcess: direct,
      handlerInProcessFreshInstances: fresh,
      instantiationCost: instances,
      reuseSpeedupP50: Number((fresh.sequential.p50 / direct.sequential.p50).toFixed(1)),
      reuseRequestsPerSecondRatio: Number((direct.requestsPerSecond / fresh.requestsPerSecond).toFixed(1)),
      throughServiceSameNode: service,
      serviceHopAddsP50Ms: Number((service.sequential.p50 - direct.sequential.p50).toFixed(2)),
      serviceHopAddsPairedP50Ms: servicePaired.addedP50Ms,
      serviceP50Ratio: Number((service.sequential.p50 / direct.sequential.p50).toFixed(2)),
      acrossNodesDirectP50Ratio: Number((mesh.direct.sequential.p50 / direct.sequential.p50).toFixed(2)),
      relayP50Ratio: Number((mesh.relay.sequential.p50 / direct.sequential.p50).toFixed(2)),
      guestAnsweringAlone: guestAlone,
      guestToServiceToGuest: chain,
      outgoingRequestCostP50Ms: Number((chain.sequential.p50 - guestAlone.sequential.p50).toFixed(2)),
      tcpPodToServiceToPodSameNode: tcp,
      throughNodePort: nodePort,
      ...(nodePort ? {
        nodePortAddsP50Ms: Number((nodePort.sequential.p50 - direct.sequential.p50).toFixed(2)),
        nodePortAddsPairedP50Ms: nodePort.paired.addedP50Ms,
        nodePortP50Ratio: Number((nodePort.sequential.p50 / direct.sequential.p50).toFixed(2)),
        nodePortP99Ratio: Number((nodePort.sequential.p99 / direct.sequential.p99).toFixed(2)),
        nodePortRequestsPerSecondRatio: Number((nodePort.requestsPerSecond / direct.requestsPerSecond).toFixed(2)),
      } : {}),
      ingressCluster: fromOutside,
      ingressAddsP50Ms: fromOutside?.inProcess ? Number((fromOutside.ingress.sequential.p50 - fromOutside.inProcess.sequential.p50).toFixed(2)) : undefined,
      ingressAddsPairedP50Ms: fromOutside?.paired?.addedP50Ms,
      ingressP50Ratio: fromOutside?.inProcess ? Number((fromOutside.ingress.sequential.p50 / fromOutside.inProcess.sequential.p50).toFixed(2)) : undefined,
      ingressP99Ratio: fromOutside?.inProcess ? Number((fromOutside.ingress.sequential.p99 / fromOutside.inProcess.sequential.p99).toFixed(2)) : undefined,
      ingressRequestsPerSecondRatio: fromOutside?.inProcess ? Number((fromOutside.ingress.requestsPerSecond / fromOutside.inProcess.requestsPerSecond).toFixed(2)) : undefined,
      tunnelOnlyInstantHandlerMs: tunnel,
      acrossNodesDirect: mesh.direct,
      acrossNodesRelay: mesh.relay,
      relayAddsP50Ms: Number((mesh.relay.sequential.p50 - mesh.direct.sequential.p50).toFixed(2)),
      tcpAcrossNodes: tcpNodes,
      udpRoundTrips: udp,
      udpAcrossNodesByRelay: udpRelay,
    }, null, 2));
  } finally {
    await runtime.close();
  }
}

/** Instantiation vs handler call (ms, in the worker): the fresh container instantiates per request, the reused one once. */
function instantiationCost(reused: RunningContainer, fresh: RunningContainer) {
  const of = (container: RunningContainer) => {
    const stats = (container as HttpHandlerContainer).instanceStats;
    return { instancesStarted: stats.instancesStarted, requests: stats.requests, instantiateMs: summarize(stats.instantiateMs), handleMs: summarize(stats.handleMs) };
  };
  return { fresh: of(fresh), reused: of(reused) };
}

await main();
