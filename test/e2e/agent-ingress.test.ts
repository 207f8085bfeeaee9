// Ingress served by the agents themselves (decision 075): a real control plane without a gateway,
// two agents on their own loopback addresses serving `--ingress-port 0 --ingress-tls-port 0`,
// two Deployments of http-health behind Services, an Ingress with TLS from a Secret created with
// the real kubectl. Each agent routes by Host and path (to pods on either node), serves TLS by SNI,
// lists itself in the Ingress's status.loadBalancer, answers hostile Host and path values with 400
// or 404 and never falls over, and keeps serving once the control plane is gone.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints, Ingress } from '../../control-plane/resources/kinds/services.js';
import { hostileString, seededRandom } from '../support/seeded-random.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { curl, until } from './curl.js';
import { app } from './http-health-app.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';
const NODE_IPS = ['127.0.0.2', '127.0.0.3'];

const site = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site' },
  spec: {
    tls: [{ hosts: ['www.example.test'], secretName: 'site-tls' }],
    rules: [{ host: 'www.example.test', http: { paths: [
      { path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 80 } } } },
      { path: '/api', pathType: 'Prefix', backend: { service: { name: 'back', port: { name: 'http' } } } },
    ] } }],
  },
};

/** One raw HTTP/1.1 exchange: the status code of the answer, or 0 when the agent closed without one. */
function rawStatus(host: string, port: number, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    socket.setTimeout(20_000, () => reject(new Error(`no answer to ${JSON.stringify(request.toString('latin1'))}`)));
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.end(request);
  });
}

describe.skipIf(!hasTool('kubectl', 'agent Ingress e2e'))('Ingress served by the agents on their node IPs', () => {
  let cluster: Cluster;
  const ports = () => cluster.agents.map((a) => a.ingress!.ports!);
  const via = (i: number, host: string, path: string) => until(`http://${NODE_IPS[i]}:${ports()[i]!.http}${path}`, (a) => a.status === 200, { host });

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true, agentIngress: { port: 0, tlsPort: 0 } });
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    for (const name of ['front', 'back']) {
      expect((await cluster.client.request('POST', '/apis/apps/v1/namespaces/default/deployments', app(name))).status).toBe(201);
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
      expect((await cluster.client.request('POST', `${NS}/services`, svc)).status).toBe(201);
    }
    const cert = await generate([{ name: 'commonName', value: 'www.example.test' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'www.example.test' }] }],
    });
    await writeFile(join(cluster.dataDir, 'tls.crt'), cert.cert);
    await writeFile(join(cluster.dataDir, 'tls.key'), cert.private);
    await cluster.kubectlOk(['create', 'secret', 'tls', 'site-tls', '--cert', join(cluster.dataDir, 'tls.crt'), '--key', join(cluster.dataDir, 'tls.key')]);
    expect((await cluster.client.request('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', site)).status).toBe(201);
    for (const name of ['front', 'back']) {
      await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3D${name}`,
        (e) => (e.object.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 1, 180_000);
    }
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('routes by Host and path on every agent\'s address, to pods on either node, and lists the agents in status.loadBalancer', async () => {
    for (const i of [0, 1]) {
      expect((await via(i, 'www.example.test', '/')).headers['x-pod-name']).toMatch(/^front-/);
      const api = await via(i, 'www.example.test', '/api/v1?q=1');
      expect(api.body).toBe('ok GET /api/v1?q=1\n');
      expect(api.headers['x-pod-name']).toMatch(/^back-/);
      expect((await via(i, 'www.example.test', '/apiary')).headers['x-pod-name']).toMatch(/^front-/); // whole elements only
      const missing = await curl(`http://${NODE_IPS[i]}:${ports()[i]!.http}/`, { host: 'unknown.test' });
      expect(missing.status).toBe(404);
      expect(missing.body).toBe('default backend - 404\n');
    }
    const ing = await waitFor<Ingress>(cluster.client, '/apis/networking.k8s.io/v1/namespaces/default/ingresses?fieldSelector=metadata.name%3Dsite',
      (e) => (e.object.status?.loadBalancer?.ingress ?? []).length === 2, 30_000);
    expect(ing.status!.loadBalancer!.ingress!.map((a) => a.ip)).toEqual(NODE_IPS);
    expect(await cluster.kubectlOk(['get', 'ingress', 'site'])).toMatch(/site\s+<none>\s+www\.example\.test\s+127\.0\.0\.2,127\.0\.0\.3\s+80, 443/);
  }, 180_000);

  it('serves TLS by SNI with the Ingress\'s Secret on every agent, the default certificate otherwise', async () => {
    for (const i of [0, 1]) {
      const port = ports()[i]!.https!;
      const tls = (host: string) => run('/usr/bin/curl', ['-sS', '-v', '-k', '--max-time', '30', '--resolve', `${host}:${port}:${NODE_IPS[i]}`, `https://${host}:${port}/api/tls`], { timeout: 40_000 });
      const ok = await tls('www.example.test');
      expect(ok.stdout).toBe('ok GET /api/tls\n');
      expect(ok.stderr).toMatch(/subject: CN\s*=\s*www\.example\.test/);
      const other = await tls('other.test').catch((e: { stderr: string }) => e);
      expect(other.stderr).toMatch(/subject: CN\s*=\s*skiff ingress default certificate/);
    }
  }, 120_000);

  it('answers hostile Host and path values with 400 or 404 and keeps serving (seeded fuzz)', async () => {
    const next = seededRandom(75);
    const port = ports()[0]!.http!;
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const host = hostileString(next);
      const path = next() < 0.5 ? hostileString(next) : `/${hostileString(next)}`;
      const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1');
      const status = await rawStatus(NODE_IPS[0]!, port, request);
      seen.add(status);
      // a hostile host never matches www.example.test: 404 (no rule), or 400 (node or the agent could not read it)
      expect([400, 404], `${JSON.stringify(host)} ${JSON.stringify(path)}`).toContain(status);
    }
    expect(seen.has(400) && seen.has(404)).toBe(true);
    expect((await via(0, 'www.example.test', '/')).headers['x-pod-name']).toMatch(/^front-/);
  }, 120_000);

  it('keeps serving the Ingress on both agents once the control plane is gone', async () => {
    await cluster.cp.stop();
    for (const i of [0, 1]) {
      expect((await via(i, 'www.example.test', '/api/offline')).body).toBe('ok GET /api/offline\n');
      expect((await via(i, 'www.example.test', '/')).headers['x-pod-name']).toMatch(/^front-/);
    }
  }, 120_000);
});
