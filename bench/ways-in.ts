// The ways in from outside as a user runs them (`npm run bench:ways-in`): `skiff control-plane
// --ingress-port` and `skiff agent` as two processes of their own, the http-health example as a pod
// behind a NodePort Service and an Ingress, and the load generator (bench/ways-in-load.ts) as a
// third process: the handler alone in its own process against requests through the NodePort (the
// agent) and through the Ingress (the gateway, then the agent's tunnel), paired. Prints JSON with
// the load average before and after, and the CPU each process used per request. BENCH_WARMUP=N gives
// each way in N requests before it is measured (20 by default: the gateway's path is then not yet
// optimized by V8; 2000 shows the steady state). BENCH_PROFILE=DIR runs the control plane and the
// agent with --cpu-prof (profiles written in DIR when they stop).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushComponent } from '../cli/push-command.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIFF = join(ROOT, 'bin', 'skiff.js');
const WASM = join(ROOT, 'wasm-examples', 'http-health', 'http-health.wasm');
const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';
const PROFILE = process.env['BENCH_PROFILE'];
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(name: string, args: string[], out: string[]): ChildProcess {
  const child = spawn(process.execPath, [...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE, '--cpu-prof-name', `${name}.cpuprofile`] : []), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  return child;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { env: { PATH: process.env['PATH'], KUBECONFIG: kubeconfig, HOME: dirname(kubeconfig) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
    child.stdin.end(input ?? '');
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec: { containers: [{ name: main, image: examples/http-health:latest, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { type: NodePort, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec: { rules: [{ host: web.bench, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }] }
`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-ways-in-'));
  const [api, mqtt, ingressPort, agentIngressPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const output: string[] = [];
  const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
  let cp: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  try {
    cp = start('control-plane', [SKIFF, 'control-plane', '--data-dir', join(dir, 'cp'), '--api-port', String(api), '--mqtt-port', String(mqtt), '--ingress-port', String(ingressPort), '--log-level', 'warn'], output);
    const kubeconfig = join(dir, 'cp', 'kubeconfig');
    const token = await until('the control plane', async () => {
      if (!existsSync(kubeconfig) || !(await readFile(kubeconfig, 'utf8')).includes('current-context')) return undefined;
      await kubectl(kubeconfig, ['get', '--raw', '/readyz']);
      return (await readFile(join(dir, 'cp', 'node-token'), 'utf8')).trim() || undefined;
    }, 60_000);
    agent = start('agent', [SKIFF, 'agent', '--server', `mqtts://127.0.0.1:${mqtt}`, '--ca-file', join(dir, 'cp', 'ca.crt'), '--token', token, '--name', 'node-1',
      '--data-dir', join(dir, 'agent'), '--tunnel-port', '0', '--ingress-port', String(agentIngressPort), '--warm-workers', '2', '--log-level', 'warn'], output);
    await pushComponent(kubeconfig, WASM, 'examples/http-health:latest');
    await kubectl(kubeconfig, ['apply', '-f', '-'], MANIFESTS);
    const nodePort = Number(await until('the nodePort', async () => (await kubectl(kubeconfig, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])) || undefined));
    const nodePortUrl = `http://127.0.0.1:${nodePort}/`;
    const ingressUrl = `http://127.0.0.1:${ingressPort}/`;
    const agentIngressUrl = `http://127.0.0.1:${agentIngressPort}/`; // the agent's own Ingress port (decision 075)
    // node:http (fetch cannot set Host)
    const ok = (url: string, host?: string) => new Promise<true | undefined>((resolve, reject) => {
      const req = httpRequest(url, { agent: false, ...(host ? { headers: { host } } : {}) }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? true : undefined));
      });
      req.on('error', reject);
      req.end();
    });
    await until('the NodePort to answer 200', () => ok(nodePortUrl));
    await until('the Ingress to answer 200', () => ok(ingressUrl, 'web.bench'));
    await until('the agent\'s Ingress to answer 200', () => ok(agentIngressUrl, 'web.bench'));
    log(`cluster up: NodePort ${nodePortUrl}, Ingress ${ingressUrl}; load generator starts`);
    const load = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'ways-in-load.js')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODEPORT_URL: nodePortUrl, INGRESS_URL: ingressUrl, AGENT_INGRESS_URL: agentIngressUrl, INGRESS_HOST: 'web.bench', WASM, CONTROL_PLANE_PID: String(cp.pid), AGENT_PID: String(agent.pid) },
    });
    let json = '';
    load.stdout!.on('data', (c: Buffer) => (json += c.toString()));
    const code = await new Promise<number | null>((resolve) => load.once('exit', resolve));
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    const result = JSON.parse(json) as Record<string, unknown>;
    console.log(JSON.stringify({ ...result, loadAverageBefore: loadBefore, loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))), profiles: PROFILE ?? null }, null, 2));
  } catch (error) {
    process.stderr.write(`${output.join('').slice(-4000)}\n`);
    throw error;
  } finally {
    if (agent) await stop(agent);
    if (cp) await stop(cp);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
