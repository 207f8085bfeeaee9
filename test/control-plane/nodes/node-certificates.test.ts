// Node certificates: the route (own name only, hostile bodies -> 422, seeded fuzz never 500) and
// the agent's keeper against a real HTTPS API server (issue, store, reload, renew before expiry).
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { startApiServer, type ApiServer } from '../../../control-plane/api/api-server.js';
import { ensureTls, type TlsMaterial } from '../../../control-plane/api/tls.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import { controlPlaneAddresses, NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import { mountNodeCredentialRoutes } from '../../../control-plane/nodes/node-credential-routes.js';
import { NodeCredentials } from '../../../control-plane/nodes/node-credentials.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token' };

describe('node certificates', () => {
  let t: TestResources;
  let app: Hono;
  let dir: string;
  let tls: TlsMaterial;
  let server: ApiServer;
  const node: Record<string, string> = {};
  const post = (path: string, token: string | undefined, body: string) => app.request(path, {
    method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });

  beforeAll(async () => {
    t = await openTestResources();
    dir = await mkdtemp(join(tmpdir(), 'skiff-nodecert-'));
    tls = await ensureTls(dir, { hosts: ['127.0.0.1'] });
    const credentials = await NodeCredentials.open(t.store);
    node['node-1'] = await credentials.issue('node-1');
    node['node-2'] = await credentials.issue('node-2');
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, credentials),
      extraRoutes: (api) => mountNodeCredentialRoutes(api, credentials, new NodeCertificateIssuer(dir, controlPlaneAddresses(['127.0.0.1']))),
    });
    server = await startApiServer({ app, host: '127.0.0.1', port: 0, tls: { key: tls.key, cert: tls.cert, clientCa: tls.caCert } });
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a node its own certificate, signed by the cluster CA, never naming the control plane\'s addresses', async () => {
    const res = await post('/skiff/v1/node-certificates/node-1', node['node-1'], JSON.stringify({ ips: ['10.9.8.7', '127.0.0.1'] }));
    expect(res.status).toBe(201);
    const body = await res.json() as { cert: string; key: string; caCert: string; notAfter: string };
    const x509 = new X509Certificate(body.cert);
    expect(x509.subject).toContain('CN=system:node:node-1');
    expect(x509.subject).toContain('O=system:nodes');
    expect(x509.verify(new X509Certificate(tls.caCert).publicKey)).toBe(true);
    expect(x509.checkIP('10.9.8.7')).toBe('10.9.8.7');
    expect(x509.checkIP('127.0.0.1')).toBeUndefined();
    expect(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(body.key))).toBe(true);
    expect(body.caCert).toBe(tls.caCert);
  });

  it('refuses a certificate for another node, the bootstrap token and no token', async () => {
    expect((await post('/skiff/v1/node-certificates/node-2', node['node-1'], '{}')).status).toBe(403);
    expect((await post('/skiff/v1/node-certificates/node-1', tokens.bootstrap, '{}')).status).toBe(403);
    expect((await post('/skiff/v1/node-certificates/node-1', undefined, '{}')).status).toBe(401);
    expect([400, 403]).toContain((await post('/skiff/v1/node-certificates/node-1%2F..', node['node-1'], '{}')).status);
    expect((await post('/skiff/v1/node-certificates/node-1/..', node['node-1'], '{}')).status).not.toBe(201);
  });

  it('answers hostile requests with 422 and field causes', async () => {
    const cases: Array<[string, string]> = [
      ['{"ips":"10.0.0.1"}', 'ips'], ['{"ips":["x"]}', 'ips[0]'], ['{"ips":[1]}', 'ips[0]'],
      [JSON.stringify({ ips: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5'] }), 'ips'],
      ['not json', 'body'], [JSON.stringify({ ips: ['1'.repeat(5000)] }), 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/skiff/v1/node-certificates/node-1', node['node-1'], body);
      expect(res.status, body.slice(0, 40)).toBe(422);
      expect((await res.json() as { causes: Array<{ field: string }> }).causes[0]!.field).toBe(field);
    }
    // the admin may ask for any node, but only one with a credential
    expect((await post('/skiff/v1/node-certificates/ghost', tokens.admin, '{}')).status).toBe(422);
  });

  it('never answers 500 to fuzzed bodies and names (seeded)', async () => {
    const next = seededRandom(1107);
    for (let i = 0; i < 150; i++) {
      const body = i % 3 === 0 ? hostileString(next) : JSON.stringify(i % 3 === 1 ? { ips: hostileJson(next) } : hostileJson(next));
      const name = i % 5 === 0 ? encodeURIComponent(hostileString(next, 3)) || 'x' : 'node-1';
      const res = await post(`/skiff/v1/node-certificates/${name}`, node['node-1'], body);
      expect([201, 400, 403, 404, 422], `${name} ${body.slice(0, 60)}`).toContain(res.status);
    }
  });

  it('the agent keeps its certificate in its data dir, reloads it, and renews it before it expires', async () => {
    const agentDir = await mkdtemp(join(tmpdir(), 'skiff-nodecert-agent-'));
    let now = Date.now();
    const keeper = new NodeCertificate({ node: 'node-2', token: node['node-2']!, dataDir: agentDir, ips: ['10.1.2.3'], now: () => now });
    expect(keeper.needsRenewal()).toBe(true);
    const changes: string[] = [];
    keeper.onChange((c) => changes.push(c.cert));
    await keeper.maintain({ url: server.url, caCert: tls.caCert });
    const first = keeper.current!;
    expect(first.cert).toContain('BEGIN CERTIFICATE');
    expect(changes).toHaveLength(1);
    expect((await stat(nodeTlsPath(agentDir))).mode & 0o777).toBe(0o600);
    expect(keeper.needsRenewal()).toBe(false);
    await keeper.maintain({ url: server.url, caCert: tls.caCert }); // nothing to do
    expect(changes).toHaveLength(1);

    const reloaded = new NodeCertificate({ node: 'node-2', token: 'unused', dataDir: agentDir, ips: [], now: () => now });
    expect((await reloaded.load())?.cert).toBe(first.cert);
    // another node's file is not taken
    expect(await new NodeCertificate({ node: 'node-1', token: 'x', dataDir: agentDir, ips: [] }).load()).toBeUndefined();

    now = first.notAfter - (first.notAfter - first.notBefore) / 4; // a quarter left
    expect(keeper.needsRenewal()).toBe(true);
    await keeper.maintain({ url: server.url, caCert: tls.caCert });
    expect(changes).toHaveLength(2);
    expect(keeper.current!.cert).not.toBe(first.cert);
    expect(JSON.parse(await readFile(nodeTlsPath(agentDir), 'utf8')).cert).toBe(keeper.current!.cert);

    // a wrong credential: the error is reported, the old certificate kept, no retry storm
    const errors: string[] = [];
    const bad = new NodeCertificate({ node: 'node-1', token: node['node-2']!, dataDir: agentDir, ips: [], onError: (e) => errors.push(e.message) });
    await bad.maintain({ url: server.url, caCert: tls.caCert });
    await bad.maintain({ url: server.url, caCert: tls.caCert });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/403/);
    await rm(agentDir, { recursive: true, force: true });
  }, 60_000);
});
