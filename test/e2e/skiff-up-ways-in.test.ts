// The ways in as a new user takes them, from the build in dist/: `skiff up --agents 2
// --ingress-port 0 --ingress-tls-port 0`, the frontend example applied with the real kubectl
// (wasm-examples/http-health/frontend.yaml: a Deployment behind a NodePort Service and an Ingress
// with TLS), curl to the nodePort on every agent's own loopback address and through the Ingress by
// Host and path, over HTTP and HTTPS (the Secret's certificate by SNI), on the gateway and on each
// agent's own address (decision 075). And `skiff control-plane`
// takes the same flags: it serves the gateway there (404 from the default backend with no Ingress,
// the default IngressClass skiff), and refuses --ingress-tls-port without --ingress-port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { curl, until } from './curl.js';

const run = promisify(execFile);
const built = existsSync('dist/cli/main.js');
const INGRESS_LINE = /Ingress http:\/\/127\.0\.0\.1:(\d+) and https:\/\/127\.0\.0\.1:(\d+)\./;

interface Skiff { child: ChildProcess; output: string; dataDir: string }

/** Starts `skiff <args>` from dist with a data dir of its own; resolves once it printed `ready` (stdout or its log). */
async function startSkiff(args: string[], ready: string): Promise<Skiff> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-ways-in-'));
  const ports = args[0] === 'agent' ? [] : ['--api-port', '0', '--mqtt-port', '0'];
  const child = spawn(process.execPath, ['bin/skiff.js', ...args, '--data-dir', dataDir, ...ports], { stdio: ['ignore', 'pipe', 'pipe'] });
  const skiff: Skiff = { child, output: '', dataDir };
  await new Promise<void>((resolve, reject) => {
    const read = (c: Buffer) => {
      skiff.output += c.toString();
      if (skiff.output.includes(ready)) resolve();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`skiff ${args.join(' ')} exited with ${code}:\n${skiff.output}`)));
  });
  return skiff;
}

async function stopSkiff(skiff: Skiff | undefined): Promise<void> {
  if (!skiff) return;
  if (skiff.child.exitCode === null && skiff.child.signalCode === null) {
    const exited = new Promise((r) => skiff.child.once('exit', r));
    skiff.child.kill('SIGTERM');
    await exited;
  }
  await rm(skiff.dataDir, { recursive: true, force: true });
}

/** `skiff <args>` with its Ingress ports read from its output, and the real kubectl against it. */
async function startWithIngress(args: string[], ready: string): Promise<{ skiff: Skiff; httpPort: number; httpsPort: number; kubectl: (...args: string[]) => Promise<string> }> {
  const skiff = await startSkiff(args, ready);
  const ports = INGRESS_LINE.exec(skiff.output);
  expect(ports, skiff.output).not.toBeNull();
  const kubectl = async (...kubectlArgs: string[]) =>
    (await run(TOOL_PATHS.kubectl, kubectlArgs, { env: { ...process.env, KUBECONFIG: join(skiff.dataDir, 'kubeconfig') }, timeout: 300_000 })).stdout;
  return { skiff, httpPort: Number(ports![1]), httpsPort: Number(ports![2]), kubectl };
}

/** curl over HTTPS to `host` (SNI) at 127.0.0.1:port: the body and the certificate's subject line. */
async function curlTls(host: string, port: number, path: string): Promise<{ body: string; subject: string }> {
  const { stdout, stderr } = await run('/usr/bin/curl', ['-sS', '-v', '-k', '--max-time', '30', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}${path}`], { timeout: 40_000 });
  return { body: stdout, subject: /subject: (.*)/.exec(stderr)?.[1] ?? '' };
}

describe.skipIf(!built || !hasTool('kubectl', 'skiff up ways-in e2e'))('skiff up --agents 2 --ingress-port --ingress-tls-port, with the frontend example', () => {
  let skiff: Skiff;
  let httpPort: number;
  let httpsPort: number;
  let kubectl: (...args: string[]) => Promise<string>;

  beforeAll(async () => {
    ({ skiff, httpPort, httpsPort, kubectl } = await startWithIngress(['up', '--agents', '2', '--ingress-port', '0', '--ingress-tls-port', '0'], 'skiff is ready'));
    const cert = await generate([{ name: 'commonName', value: 'frontend.example' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'frontend.example' }] }],
    });
    await writeFile(join(skiff.dataDir, 'tls.crt'), cert.cert);
    await writeFile(join(skiff.dataDir, 'tls.key'), cert.private);
    await kubectl('create', 'secret', 'tls', 'frontend-tls', '--cert', join(skiff.dataDir, 'tls.crt'), '--key', join(skiff.dataDir, 'tls.key'));
    expect(await kubectl('apply', '-f', 'wasm-examples/http-health/frontend.yaml')).toMatch(/deployment\.apps\/frontend created\nservice\/frontend created\ningress\.networking\.k8s\.io\/frontend created/);
    await kubectl('rollout', 'status', 'deployment/frontend', '--timeout=240s');
  }, 360_000);
  afterAll(async () => {
    await stopSkiff(skiff);
  });

  it('runs a frontend pod on each agent, each agent on its own loopback address', async () => {
    expect(await kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address} {end}')).toBe('127.0.0.2 127.0.0.3 ');
    const hosts = await kubectl('get', 'pods', '-l', 'app=frontend', '-o', 'jsonpath={range .items[*]}{.status.hostIP} {end}');
    expect(hosts.trim().split(' ').sort()).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('serves the nodePort on every agent\'s address', async () => {
    const nodePort = Number(await kubectl('get', 'service', 'frontend', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    for (const ip of ['127.0.0.2', '127.0.0.3']) {
      const answer = await until(`http://${ip}:${nodePort}/from-outside`, (a) => a.status === 200, { timeoutMs: 120_000 });
      expect(answer.body).toBe('ok GET /from-outside\n');
      expect(answer.headers['x-pod-name']).toMatch(/^frontend-/);
    }
  }, 180_000);

  it('routes through the Ingress by Host and path over HTTP, and over HTTPS with the Secret\'s certificate', async () => {
    const answer = await until(`http://127.0.0.1:${httpPort}/app/page?x=1`, (a) => a.status === 200, { host: 'frontend.example', timeoutMs: 120_000 });
    expect(answer.body).toBe('ok GET /app/page?x=1\n');
    expect(answer.headers['x-pod-name']).toMatch(/^frontend-/);
    // other paths and hosts are not the frontend's
    expect((await curl(`http://127.0.0.1:${httpPort}/other`, { host: 'frontend.example' })).status).toBe(404);
    expect((await curl(`http://127.0.0.1:${httpPort}/app`, { host: 'elsewhere.example' })).status).toBe(404);
    const tls = await curlTls('frontend.example', httpsPort, '/app/tls');
    expect(tls.body).toBe('ok GET /app/tls\n');
    expect(tls.subject).toMatch(/CN\s*=\s*frontend\.example/);
    // the gateway, then the two agents, which serve the same Ingress on their own addresses (decision 075)
    expect(await kubectl('get', 'ingress', 'frontend')).toMatch(/frontend\s+<none>\s+frontend\.example\s+127\.0\.0\.1,127\.0\.0\.2,127\.0\.0\.3\s+80, 443/);
  }, 180_000);

  it('serves the same Ingress on each agent\'s own address, on the ports its Node reports', async () => {
    for (const [node, ip] of [['node-1', '127.0.0.2'], ['node-2', '127.0.0.3']] as const) {
      const ports = JSON.parse(await kubectl('get', 'node', node, '-o', 'jsonpath={.metadata.annotations.node\\.skiff\\.dev/ingress-ports}')) as { http: number; https: number };
      const answer = await until(`http://${ip}:${ports.http}/app/on-agent`, (a) => a.status === 200, { host: 'frontend.example', timeoutMs: 60_000 });
      expect(answer.body).toBe('ok GET /app/on-agent\n');
      const { stdout, stderr } = await run('/usr/bin/curl', ['-sS', '-v', '-k', '--max-time', '30', '--resolve', `frontend.example:${ports.https}:${ip}`, `https://frontend.example:${ports.https}/app/tls`], { timeout: 40_000 });
      expect(stdout).toBe('ok GET /app/tls\n');
      expect(stderr).toMatch(/subject: CN\s*=\s*frontend\.example/);
    }
  }, 120_000);
});

describe.skipIf(!built || !hasTool('kubectl', 'skiff control-plane ingress e2e'))('skiff control-plane --ingress-port --ingress-tls-port, skiff agent --node-ip', () => {
  let skiff: Skiff;
  let agent: Skiff | undefined;
  let httpPort: number;
  let httpsPort: number;
  let kubectl: (...args: string[]) => Promise<string>;

  beforeAll(async () => {
    ({ skiff, httpPort, httpsPort, kubectl } = await startWithIngress(['control-plane', '--ingress-port', '0', '--ingress-tls-port', '0', '--log-level', 'warn'], 'control plane is ready'));
  }, 120_000);
  afterAll(async () => {
    await stopSkiff(agent);
    await stopSkiff(skiff);
  });

  it('serves the Ingress gateway on both ports, with the default IngressClass skiff', async () => {
    const plain = await curl(`http://127.0.0.1:${httpPort}/`, { host: 'nothing.example' });
    expect(plain.status).toBe(404);
    expect(plain.body).toBe('default backend - 404\n');
    const tls = await curlTls('nothing.example', httpsPort, '/');
    expect(tls.body).toBe('default backend - 404\n');
    expect(tls.subject).toMatch(/skiff ingress default certificate/);
    expect(await kubectl('get', 'ingressclass', 'skiff', '-o', 'jsonpath={.spec.controller} {.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}')).toBe('skiff.dev/ingress true');
  });

  it('takes an agent with --node-ip: its InternalIP, its NodePort there, and the Ingress through its tunnel', async () => {
    const mqtt = /MQTT (mqtts:\/\/\S+?)\.? /.exec(skiff.output)?.[1];
    expect(mqtt, skiff.output).toBeDefined();
    const token = (await readFile(join(skiff.dataDir, 'node-token'), 'utf8')).trim();
    agent = await startSkiff(['agent', '--server', mqtt!, '--ca-file', join(skiff.dataDir, 'ca.crt'), '--token', token, '--name', 'edge-1',
      '--node-ip', '127.0.0.5', '--tunnel-port', '0', '--log-level', 'info'], 'agent started');
    await kubectl('wait', '--for=condition=Ready', 'node/edge-1', '--timeout=120s');
    expect(await kubectl('get', 'node', 'edge-1', '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')).toBe('127.0.0.5');
    await kubectl('create', 'deployment', 'web', '--image', 'examples/http-health:latest', '--port', '8080');
    await kubectl('expose', 'deployment', 'web', '--type', 'NodePort', '--port', '80', '--target-port', '8080');
    await kubectl('create', 'ingress', 'web', '--rule', 'web.example/*=web:80');
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=240s');
    const nodePort = Number(await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    const direct = await until(`http://127.0.0.5:${nodePort}/np`, (a) => a.status === 200, { timeoutMs: 120_000 });
    expect(direct.body).toBe('ok GET /np\n');
    const viaIngress = await until(`http://127.0.0.1:${httpPort}/in?x=1`, (a) => a.status === 200, { host: 'web.example', timeoutMs: 120_000 });
    expect(viaIngress.body).toBe('ok GET /in?x=1\n');
    expect((await curlTls('web.example', httpsPort, '/in-tls')).body).toBe('ok GET /in-tls\n');
  }, 360_000);

  it('refuses --ingress-tls-port without --ingress-port, saying so', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skiff-ways-in-'));
    const failed = await run(process.execPath, ['bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--ingress-tls-port', '0'], { timeout: 60_000 })
      .then(() => undefined, (e: { code: number; stderr: string; stdout: string }) => e);
    await rm(dataDir, { recursive: true, force: true });
    expect(failed?.code).not.toBe(0);
    expect(`${failed?.stdout}${failed?.stderr}`).toContain('--ingress-tls-port needs --ingress-port');
  });
});
