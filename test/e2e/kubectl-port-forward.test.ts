// `kubectl port-forward` with the real kubectl and curl: to a pod's HTTP handler over the WebSocket
// tunnel (kubectl 1.32's first choice) and over plain SPDY (its fallback), and to `svc/NAME`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { spawnKubectl, type SpawnedKubectl } from '../support/spawned-kubectl.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;
const curl = (url: string) => run('/usr/bin/curl', ['-sS', '--max-time', '30', '-D', '-', url], { timeout: 40_000 });

describe.skipIf(!hasTool('kubectl', 'kubectl port-forward e2e'))('kubectl port-forward', () => {
  let cluster: Cluster;
  const sessions: SpawnedKubectl[] = [];
  /** Starts port-forward on an ephemeral local port; resolves with that port once kubectl listens. */
  const forward = async (target: string, remote: number, env: Record<string, string> = {}) => {
    const session = spawnKubectl(cluster.cp.kubeconfigPath, ['port-forward', '-v=4', '--address', '127.0.0.1', target, `:${remote}`], env);
    sessions.push(session);
    await session.printed(`-> ${remote}`);
    const local = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(session.stdout())?.[1];
    expect(local).toBeDefined();
    return { session, port: Number(local) };
  };

  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
      spec: { containers: [{ name: 'main', image: 'examples/http-health:latest', ports: [{ containerPort: 8080 }] }] },
    };
    expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-svc' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    expect((await cluster.client.request('POST', '/api/v1/namespaces/default/services', service)).status).toBe(201);
    await waitFor<Pod>(cluster.client, byName('web'), (e) => e.object.status?.phase === 'Running', 60_000);
  }, 120_000);
  afterAll(async () => {
    for (const s of sessions) s.child.kill('SIGINT');
    await Promise.all(sessions.map((s) => s.exited));
    await cluster?.stop();
  });

  for (const [transport, env] of [['the WebSocket tunnel', {}], ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    it(`forwards local connections to the pod's HTTP handler over ${transport}`, async () => {
      const { session, port } = await forward('pod/web', 8080, env);
      // kubectl says which way it got in (-v=4): no silent fallback from the tunnel to SPDY
      if (transport === 'SPDY') expect(session.stderr()).not.toContain('negotiated protocol');
      else {
        expect(session.stderr()).toContain('negotiated protocol: portforward.k8s.io');
        expect(session.stderr()).not.toContain('fallback to secondary dialer');
      }
      const first = await curl(`http://127.0.0.1:${port}/hello?x=1`);
      expect(first.stdout).toMatch(/^HTTP\/1\.1 200/);
      expect(first.stdout).toContain('x-served-by: http-health');
      expect(first.stdout).toContain('ok GET /hello?x=1');
      // one connection each, at once
      const many = await Promise.all([1, 2, 3].map((i) => curl(`http://127.0.0.1:${port}/status/20${i}`)));
      many.forEach((r, i) => expect(r.stdout).toMatch(new RegExp(`^HTTP/1\\.1 20${i + 1}`)));
    }, 120_000);
  }

  for (const [transport, env] of [['the WebSocket tunnel', {}], ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    it(`forwards to svc/NAME over ${transport} (kubectl picks a pod and maps the Service port to its targetPort)`, async () => {
      const { port } = await forward('svc/web-svc', 80, env);
      const { stdout } = await curl(`http://127.0.0.1:${port}/via-service`);
      expect(stdout).toContain('ok GET /via-service');
    }, 120_000);
  }

  it('proxies kubectl get --raw to pods/NAME[:PORT]/proxy and services/NAME:PORT/proxy', async () => {
    const env = { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath };
    const raw = async (path: string) => (await run(TOOL_PATHS.kubectl, ['get', '--raw', path], { env, timeout: 60_000 })).stdout;
    expect(await raw('/api/v1/namespaces/default/pods/web:8080/proxy/hello?x=1')).toBe('ok GET /hello?x=1\n');
    expect(await raw('/api/v1/namespaces/default/pods/web/proxy/')).toBe('ok GET /\n'); // the first container port
    expect(await raw('/api/v1/namespaces/default/services/web-svc:80/proxy/a/b/')).toBe('ok GET /a/b/\n');
    expect(await raw('/api/v1/namespaces/default/services/http:web-svc:/proxy/only-port')).toBe('ok GET /only-port\n');
    const missing = await run(TOOL_PATHS.kubectl, ['get', '--raw', '/api/v1/namespaces/default/pods/web:9999/proxy/'], { env, timeout: 60_000 }).then(() => undefined, (e: { stderr: string }) => e);
    expect(missing?.stderr).toContain('nothing listens on port 9999');
  }, 120_000);

  it('serves services/NAME:PORT/proxy through kubectl proxy, with the pod\'s status and headers', async () => {
    const proxy = spawnKubectl(cluster.cp.kubeconfigPath, ['proxy', '--port=0']);
    sessions.push(proxy);
    await proxy.printed('Starting to serve on');
    const port = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(proxy.stdout())?.[1];
    const { stdout } = await curl(`http://127.0.0.1:${port}/api/v1/namespaces/default/services/web-svc:80/proxy/status/418`);
    expect(stdout).toMatch(/^HTTP\/1\.1 418/);
    expect(stdout.toLowerCase()).toContain('x-served-by: http-health'); // kubectl proxy (Go) canonicalises the case
    const post = await run('/usr/bin/curl', ['-sS', '--max-time', '30', '-d', 'a=1', `http://127.0.0.1:${port}/api/v1/namespaces/default/pods/web:8080/proxy/form`], { timeout: 40_000 });
    expect(post.stdout).toBe('ok POST /form\n');
  }, 120_000);

  it('reaches the JavaScript http-hello component through port-forward, a POST body included', async () => {
    await cluster.cp.registry.push('examples/http-hello:latest', readFileSync('wasm-examples/http-hello/http-hello.wasm'));
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'http-hello' },
      spec: { containers: [{ name: 'http-hello', image: 'examples/http-hello:latest', ports: [{ containerPort: 8080 }] }] } };
    expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
    // a 14 MB component: transpiling it takes a while on a loaded machine
    await waitFor<Pod>(cluster.client, byName('http-hello'), (e) => e.object.status?.phase === 'Running', 280_000);
    const { port } = await forward('pod/http-hello', 8080);
    const post = await run('/usr/bin/curl', ['-sS', '--max-time', '60', '-d', 'ping', `http://127.0.0.1:${port}/echo`], { timeout: 70_000 });
    expect(post.stdout).toBe('hello from skiff: POST /echo body=ping\n');
  }, 400_000);

  it('reports a port nothing listens on as an error of that connection, and keeps forwarding', async () => {
    const { session, port } = await forward('pod/web', 9999);
    const refused = await curl(`http://127.0.0.1:${port}/`).then(() => undefined, (e: Error) => e);
    expect(refused).toBeDefined();
    await session.printed('nothing listens on port 9999 in pod web');
  }, 120_000);
});
