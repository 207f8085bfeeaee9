// Ingress (networking.k8s.io/v1) as a user drives it: real kubectl and curl against the control
// plane's gateway (--ingress-port, --ingress-tls-port), two Deployments of http-health behind
// Services. Routing by host (exact, wildcard) and path (Prefix by elements, Exact), the default
// IngressClass `skiff`, defaultBackend, 404 without a rule, TLS by SNI from a Secret (the default
// certificate otherwise), status.loadBalancer, and events for unknown Services and ports.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Endpoints, Ingress } from '../../control-plane/resources/kinds/services.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { curl, until } from './curl.js';
import { app } from './http-health-app.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';

const site = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site' },
  spec: {
    tls: [{ hosts: ['www.example.test'], secretName: 'site-tls' }],
    rules: [
      { host: 'www.example.test', http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 80 } } } },
        { path: '/api', pathType: 'Prefix', backend: { service: { name: 'back', port: { name: 'http' } } } },
      ] } },
      { host: '*.apps.test', http: { paths: [{ path: '/exact', pathType: 'Exact', backend: { service: { name: 'back', port: { name: 'http' } } } }] } },
    ],
  },
};

const fallback = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'fallback' },
  spec: {
    ingressClassName: 'skiff',
    defaultBackend: { service: { name: 'front', port: { number: 80 } } },
    rules: [{ host: 'broken.test', http: { paths: [
      { path: '/', pathType: 'ImplementationSpecific', backend: { service: { name: 'nope', port: { number: 80 } } } },
      { path: '/x', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 81 } } } },
    ] } }],
  },
};

describe.skipIf(!hasTool('kubectl', 'Ingress e2e'))('Ingress through the control plane\'s gateway', () => {
  let cluster: Cluster;
  let base: string;
  let tlsPort: number;
  let dir: string;
  const kubectl = (args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 }).then((r) => r.stdout);
  const via = (host: string, path: string) => curl(`${base}${path}`, { host });

  beforeAll(async () => {
    cluster = await startCluster({ ingress: { port: 0, tlsPort: 0 } });
    base = `http://127.0.0.1:${cluster.cp.ingress!.httpPort}`;
    tlsPort = cluster.cp.ingress!.httpsPort!;
    dir = await mkdtemp(join(tmpdir(), 'skiff-ingress-'));
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    for (const name of ['front', 'back']) {
      expect((await cluster.client.request('POST', '/apis/apps/v1/namespaces/default/deployments', app(name))).status).toBe(201);
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: name === 'front' ? 80 : 8080, targetPort: 8080 }] } };
      expect((await cluster.client.request('POST', `${NS}/services`, svc)).status).toBe(201);
    }
    const cert = await generate([{ name: 'commonName', value: 'www.example.test' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'www.example.test' }] }],
    });
    await writeFile(join(dir, 'tls.crt'), cert.cert);
    await writeFile(join(dir, 'tls.key'), cert.private);
    await kubectl(['create', 'secret', 'tls', 'site-tls', '--cert', join(dir, 'tls.crt'), '--key', join(dir, 'tls.key')]);
    expect((await cluster.client.request('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', site)).status).toBe(201);
    for (const name of ['front', 'back']) {
      await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3D${name}`, (e) => (e.object.subsets ?? []).some((s) => (s.addresses ?? []).length > 0), 180_000);
    }
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the default IngressClass skiff and sets status.loadBalancer to the gateway\'s address', async () => {
    expect(await kubectl(['get', 'ingressclass', 'skiff', '-o', 'jsonpath={.spec.controller} {.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}'])).toBe('skiff.dev/ingress true');
    const ing = await waitFor<Ingress>(cluster.client, '/apis/networking.k8s.io/v1/namespaces/default/ingresses?fieldSelector=metadata.name%3Dsite',
      (e) => (e.object.status?.loadBalancer?.ingress ?? []).length > 0, 60_000);
    expect(ing.status!.loadBalancer!.ingress).toEqual([{ ip: '127.0.0.1' }]);
    expect(await kubectl(['get', 'ingress', 'site'])).toMatch(/site\s+<none>\s+www\.example\.test,\*\.apps\.test\s+127\.0\.0\.1\s+80, 443/);
  }, 120_000);

  it('routes by host and path to the Services\' Ready endpoints', async () => {
    const front = await until(`${base}/`, (a) => a.status === 200, { host: 'www.example.test' });
    expect(front.headers['x-pod-name']).toMatch(/^front-/);
    expect(front.headers['x-seen-forwarded-for']).toBe('127.0.0.1');
    const api = await via('WWW.Example.test:80', '/api/v1?q=1');
    expect(api.body).toBe('ok GET /api/v1?q=1\n');
    expect(api.headers['x-pod-name']).toMatch(/^back-/);
    expect((await via('www.example.test', '/api')).headers['x-pod-name']).toMatch(/^back-/);
    expect((await via('www.example.test', '/apiary')).headers['x-pod-name']).toMatch(/^front-/); // whole elements only
    expect((await via('a.apps.test', '/exact')).headers['x-pod-name']).toMatch(/^back-/);
    expect((await via('a.b.apps.test', '/exact')).status).toBe(404); // one label only
    expect((await via('a.apps.test', '/exact/more')).status).toBe(404); // Exact
    const missing = await via('unknown.test', '/');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('default backend - 404\n');
    const post = await run('/usr/bin/curl', ['-sS', '-H', 'Host: www.example.test', '-X', 'POST', '--data', 'x=1', `${base}/api/post`]);
    expect(post.stdout).toBe('ok POST /api/post\n');
  }, 120_000);

  it('serves TLS with the Ingress\'s Secret by SNI, the default certificate otherwise', async () => {
    const tls = (host: string) => run('/usr/bin/curl', ['-sS', '-v', '-k', '--max-time', '30', '--resolve', `${host}:${tlsPort}:127.0.0.1`, `https://${host}:${tlsPort}/api/tls`], { timeout: 40_000 });
    const ok = await tls('www.example.test');
    expect(ok.stdout).toBe('ok GET /api/tls\n');
    expect(ok.stderr).toMatch(/subject: CN\s*=\s*www\.example\.test/);
    const other = await tls('other.test').catch((e: { stderr: string; stdout: string }) => e);
    expect(other.stderr).toMatch(/subject: CN\s*=\s*skiff ingress default certificate/);
  }, 120_000);

  it('sends what no rule takes to the defaultBackend, and records events for unknown Services and ports', async () => {
    expect((await cluster.client.request('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', fallback)).status).toBe(201);
    const answer = await until(`${base}/anything`, (a) => a.status === 200, { host: 'unknown.test' });
    expect(answer.headers['x-pod-name']).toMatch(/^front-/);
    const events = `${NS}/events?fieldSelector=involvedObject.name%3Dfallback`;
    const notFound = await waitFor<Event>(cluster.client, events, (e) => e.object.reason === 'ServiceNotFound', 60_000);
    expect(notFound.message).toBe('Service "default/nope" not found');
    const noPort = await waitFor<Event>(cluster.client, events, (e) => e.object.reason === 'ServicePortNotFound', 60_000);
    expect(noPort.message).toBe('Service "default/front" has no port 81');
    const broken = await via('broken.test', '/');
    expect(broken.status).toBe(503);
    expect(broken.body).toBe('service default/nope not found\n');
  }, 120_000);
});
