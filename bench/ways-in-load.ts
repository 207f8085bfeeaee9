// The load generator of bench/ways-in.ts, in a process of its own: the http-health handler called
// in this process ("alone": the same guest and runtime the agent runs, no way in), against HTTP
// requests through the NodePort (the agent's process) and the Ingress (the control plane's gateway,
// then the agent's tunnel), over kept-alive node:http connections; and the Ingress over HTTP/2
// (h2c, one session). Sequential p50/p99, req/s with IN_FLIGHT requests at once, and each way in
// paired with the handler alone (interleaved, the median of the differences). Prints JSON.
// With CONTROL_PLANE_PID and AGENT_PID (Linux), each measurement also gives the CPU time each of
// those processes used per request (`cpuPerRequestMs`, user and system, all threads): what a way in
// costs in CPU, apart from the time its requests wait between processes.
// The agent's own Ingress port (decision 075) is measured as (g), `agentIngressAddsPaired`.
// Env: NODEPORT_URL, INGRESS_URL, AGENT_INGRESS_URL, INGRESS_HOST, WASM, BENCH_REQUESTS, BENCH_WARMUP (requests each
// way gets before each measurement, 20 by default), CONTROL_PLANE_PID, AGENT_PID.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { digestOf } from '../runtime/component-digest.js';
import type { HttpResponse } from '../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { added } from './network-entry.js';
import { summarize } from './percentiles.js';
import { processCpuMs } from './support/proc-cpu.js';

const N = Number(process.env['BENCH_REQUESTS'] ?? 200);
const IN_FLIGHT = 4;
/** Requests each way in gets before it is measured, and pairs before the paired run (20: V8 has not yet optimized the processes' paths). */
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 20);
const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

type Call = () => Promise<HttpResponse>;
const keepAlive = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

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

function h2get(session: ClientHttp2Session, authority: string): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': authority }, { endStream: true });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: [], body: new Uint8Array(Buffer.concat(chunks)) }));
    req.on('error', reject);
  });
}

const PIDS = { controlPlane: Number(process.env['CONTROL_PLANE_PID'] ?? 0), agent: Number(process.env['AGENT_PID'] ?? 0) };

/** CPU ms per request each process used since `before` (undefined where /proc cannot be read). */
function cpuSince(before: ReturnType<typeof cpuNow>, requests: number) {
  const now = cpuNow();
  const per = (a?: { userMs: number; systemMs: number }, b?: { userMs: number; systemMs: number }) => (a && b
    ? { user: Number(((b.userMs - a.userMs) / requests).toFixed(3)), system: Number(((b.systemMs - a.systemMs) / requests).toFixed(3)) }
    : undefined);
  return { controlPlane: per(before.controlPlane, now.controlPlane), agent: per(before.agent, now.agent) };
}
function cpuNow() {
  return { controlPlane: processCpuMs(PIDS.controlPlane), agent: processCpuMs(PIDS.agent) };
}

async function measure(name: string, call: Call) {
  for (let i = 0; i < WARMUP; i++) await call();
  const cpuBefore = cpuNow();
  const latencies: number[] = [];
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    const response = await call();
    latencies.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${name}: status ${response.status}`);
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < N * 2) await call();
  }));
  const result = {
    sequential: summarize(latencies), requestsPerSecond: Math.round((N * 2) / ((performance.now() - started) / 1000)), inFlight: IN_FLIGHT,
    cpuPerRequestMs: cpuSince(cpuBefore, N * 3),
  };
  const cpu = result.cpuPerRequestMs;
  const ms = (c?: { user: number; system: number }) => (c ? `${(c.user + c.system).toFixed(3)} ms` : 'n/a');
  log(`${name}: p50 ${result.sequential.p50} ms, p99 ${result.sequential.p99} ms, ${result.requestsPerSecond} req/s; CPU per request: control plane ${ms(cpu.controlPlane)}, agent ${ms(cpu.agent)}`);
  return result;
}

const runtime = new WasmPodRuntime({ warmWorkers: 2 });
try {
  const bytes = new Uint8Array(readFileSync(env('WASM')));
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const handler = await runtime.start({ id: 'alone/0', component, args: ['http-health'], env: [] });
  const alone: Call = () => handler.handleHttp!({ method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'web', headers: [], body: new Uint8Array() }, 30_000);
  const host = env('INGRESS_HOST');
  const nodePort: Call = () => get(env('NODEPORT_URL'));
  const ingress: Call = () => get(env('INGRESS_URL'), host);
  const agentIngress: Call = () => get(env('AGENT_INGRESS_URL'), host);
  // one session, opened again when the gateway closed it (idle sessions close after 120 s)
  let session: ClientHttp2Session | undefined;
  const live = () => {
    if (!session || session.closed || session.destroyed) {
      session = connect(env('INGRESS_URL'));
      session.on('error', () => undefined);
    }
    return session;
  };
  const ingressH2: Call = () => h2get(live(), host);

  const result: Record<string, unknown> = { requests: N, warmup: WARMUP };
  result['handlerAlone'] = await measure('(a) handler alone (load generator process)', alone);
  result['throughNodePort'] = await measure('(e) through the NodePort (agent process)', nodePort);
  result['throughIngress'] = await measure('(f) through the Ingress (control plane, then the agent\'s tunnel)', ingress);
  result['throughIngressH2c'] = await measure('(f2) through the Ingress over h2c', ingressH2);
  result['throughAgentIngress'] = await measure('(g) through the agent\'s own Ingress port (agent process)', agentIngress);
  for (const [key, call] of [['nodePort', nodePort], ['ingress', ingress], ['ingressH2c', ingressH2], ['agentIngress', agentIngress]] as const) {
    const pairs = await added(alone, call, N, WARMUP);
    log(`${key} adds p50 ${pairs.addedP50Ms} ms, p90 ${pairs.addedP90Ms} ms (paired)`);
    result[`${key}AddsPaired`] = pairs;
  }
  session?.close();
  console.log(JSON.stringify(result));
} finally {
  keepAlive.destroy();
  await runtime.close();
}
