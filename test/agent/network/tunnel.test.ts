// The tunnel between two agents' pod networks on 127.0.0.1 (real HTTPS servers, mutual TLS with
// node certificates of a real cluster CA, fake handlers in real PodNetworks): pod IPs and Services
// whose endpoints run on the other node, errors carried as error-codes, a node that accepts only
// its own pods, clients and servers that are not the right node refused, the relay fallback, and a
// seeded fuzz of what a node may send.
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredPeer } from '../../../api/mqtt/messages.js';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh, type Relay } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls, issueClientCertificate } from '../../../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../../runtime/pod-runtime.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function pod(node: NodeNetwork, name: string, ip: string, ports: number[]) {
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    route: (r, ms): Promise<HttpResponse> => node.httpRequest({ namespace: 'default', network }, r, ms),
  });
  network.serveHttp(`${name}/web/0`, { name: 'web', ports: ports.map((containerPort) => ({ containerPort })) }, async (r: HttpRequest): Promise<HttpResponse> => ({
    status: r.pathWithQuery === '/teapot' ? 418 : 200,
    headers: [['x-served-by', name], ['x-skiff-tunnel-error', 'spoofed'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
    body: new TextEncoder().encode(`${name} ${r.method} ${r.scheme}://${r.authority}${r.pathWithQuery} x-test=${r.headers.find(([n]) => n === 'x-test')?.[1] ?? ''} body=${text(r.body)}`),
  }));
  node.attach(ip, { namespace: 'default', name, network });
  const view = network.ports(`${name}/client/0`, 'client', 'spec.containers{client}');
  const send = (authority: string, init: Partial<HttpRequest> = {}) => view.httpRequest!({
    method: 'GET', pathWithQuery: '/', scheme: 'http', authority, headers: [], body: new Uint8Array(), ...init,
  }, { timeoutMs: 10_000 });
  const fails = async (authority: string) => send(authority).then(() => 'answered', (e: PodNetworkError) => `${e.code}: ${e.message}`);
  return { send, fails };
}

describe('the tunnel between two nodes', () => {
  let dir: string;
  let issuer: NodeCertificateIssuer;
  const meshes: NodeMesh[] = [];
  let a: NodeNetwork;
  let b: NodeNetwork;
  let meshA: NodeMesh;
  let meshB: NodeMesh;
  let peerB: DesiredPeer;
  let relayed: string[];

  async function meshFor(node: string, network: NodeNetwork, options: { relay?: Relay; mode?: 'auto' | 'direct' | 'relay' } = {}) {
    const dataDir = await mkdtemp(join(dir, `${node}-`));
    const issued = await issuer.issue(node, ['127.0.0.1']);
    await writeFile(nodeTlsPath(dataDir), JSON.stringify({ node, ...issued }));
    const mesh = new NodeMesh({
      certificate: new NodeCertificate({ node, token: 'unused', dataDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000,
      ...(options.relay ? { relay: () => options.relay! } : {}), ...(options.mode ? { mode: options.mode } : {}),
    });
    await mesh.start(network);
    meshes.push(mesh);
    return mesh;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-tunnel-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    issuer = new NodeCertificateIssuer(dir, []);
    relayed = [];
    a = new NodeNetwork();
    b = new NodeNetwork();
    meshA = await meshFor('node-a', a, {
      relay: { request: async (peer, podIP, port, r) => (relayed.push(`${peer.node} ${podIP}:${port} ${r.pathWithQuery}`), { status: 200, headers: [], body: new TextEncoder().encode('relayed') }) },
    });
    meshB = await meshFor('node-b', b);
    peerB = { node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: meshB.port! };
    a.setPeers([peerB]);
    b.setPeers([{ node: 'node-a', podCIDR: '10.42.1.0/24', address: '127.0.0.1', port: meshA.port! }]);
    a.setServices([{
      namespace: 'default', name: 'web-svc', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }],
      endpoints: [{ ips: ['10.42.2.5'], ports: [{ name: 'http', port: 8080 }] }],
    }]);
    pod(b, 'web', '10.42.2.5', [8080]);
  }, 60_000);
  afterAll(async () => {
    for (const m of meshes) await m.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a request to a pod IP and a Service of the other node, headers and body both ways', async () => {
    const client = pod(a, 'frontend', '10.42.1.2', [8080]);
    const before = meshA.sent.direct;
    const res = await client.send('10.42.2.5:8080', { method: 'POST', pathWithQuery: '/x?y=1', headers: [['x-test', 'yes'], ['host', 'evil'], ['x-skiff-tunnel-target', '10.42.1.2:8080']], body: new TextEncoder().encode('hello') });
    expect(res.status).toBe(200);
    expect(text(res.body)).toBe('web POST http://10.42.2.5:8080/x?y=1 x-test=yes body=hello');
    expect(res.headers.filter(([n]) => n === 'set-cookie')).toEqual([['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    expect(res.headers.find(([n]) => n === 'x-skiff-tunnel-error')).toBeUndefined();
    expect(text((await client.send('web-svc')).body)).toBe('web GET http://web-svc/ x-test= body=');
    expect(text((await client.send('web-svc.default.svc.cluster.local', { pathWithQuery: '/teapot' })).body)).toMatch(/^web GET/);
    expect((await client.send('10.96.0.10', { pathWithQuery: '/teapot' })).status).toBe(418);
    expect(meshA.sent.direct - before).toBe(4);
  });

  it('carries the receiving node\'s errors as error-codes, and a node serves only its own pods', async () => {
    const client = pod(a, 'frontend2', '10.42.1.3', [8080]);
    expect(await client.fails('10.42.2.5:81')).toMatch(/^connection-refused: node node-b: dial tcp 10.42.2.5:81/);
    expect(await client.fails('10.42.2.99:8080')).toMatch(/^destination-unavailable: node node-b: no pod with IP 10.42.2.99 runs on this node/);
    // B's tunnel refuses traffic for A's pods, even from a genuine node
    const wrong = await meshB.client.request({ node: 'node-a', podCIDR: '10.42.1.0/24', address: '127.0.0.1', port: meshA.port! }, '10.42.2.5', 8080,
      { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'x', headers: [], body: new Uint8Array() }, 5_000).catch((e: PodNetworkError) => e);
    expect(wrong).toBeInstanceOf(PodNetworkError);
    expect((wrong as PodNetworkError).code).toBe('destination-unavailable');
  });

  it('refuses clients without a node certificate, and a server that is not the expected node', async () => {
    const raw = (options: Record<string, unknown>) => new Promise<string>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port: meshB.port, path: '/', rejectUnauthorized: false, headers: { 'x-skiff-tunnel-target': '10.42.2.5:8080' }, ...options }, (res) => {
        res.resume();
        res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-skiff-tunnel-error'])}`));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      req.end();
    });
    expect(await raw({})).toMatch(/^error /); // no client certificate: no handshake
    const user = await issueClientCertificate(dir, { user: 'admin', groups: ['system:masters'], days: 1 });
    expect(await raw({ key: user.key, cert: user.cert })).toBe('403 HTTP-request-denied'); // the cluster CA, but no node
    const other = await mkdtemp(join(dir, 'other-ca-'));
    await ensureTls(other, { hosts: ['127.0.0.1'] });
    const stranger = await issueClientCertificate(other, { user: 'system:node:node-a', groups: ['system:nodes'], days: 1 });
    expect(await raw({ key: stranger.key, cert: stranger.cert })).toMatch(/^error /); // another CA
    // A expects node-c at B's address: B's certificate does not pass, nothing is sent
    const imposter = await meshA.client.request({ node: 'node-c', podCIDR: '10.42.3.0/24', address: '127.0.0.1', port: meshB.port! }, '10.42.2.5', 8080,
      { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'x', headers: [], body: new Uint8Array() }, 5_000).catch((e: Error) => e);
    expect((imposter as Error).name).toBe('TunnelUnreachableError');
    expect((imposter as Error).message).toMatch(/system:node:node-b, not system:node:node-c/);
  });

  it('goes by relay when the peer cannot be reached, and says destination-unavailable without one', async () => {
    const gone = new NodeNetwork();
    const goneMesh = await meshFor('node-gone', gone);
    const port = goneMesh.port!;
    await goneMesh.close();
    a.setPeers([peerB, { node: 'node-gone', podCIDR: '10.42.9.0/24', address: '127.0.0.1', port }]);
    const client = pod(a, 'frontend3', '10.42.1.4', [8080]);
    expect(text((await client.send('10.42.9.7:8080', { pathWithQuery: '/r' })).body)).toBe('relayed');
    expect(relayed).toEqual(['node-gone 10.42.9.7:8080 /r']);
    expect(meshA.sent.relay).toBe(1);
    // direct only: no relay
    const solo = new NodeNetwork();
    await meshFor('node-solo', solo, { mode: 'direct' });
    solo.setPeers([{ node: 'node-gone', podCIDR: '10.42.9.0/24', address: '127.0.0.1', port }]);
    expect(await pod(solo, 'lonely', '10.42.5.2', [8080]).fails('10.42.9.7:8080')).toMatch(/^destination-unavailable: 10.42.9.7:8080 runs on node node-gone, which cannot be reached/);
  }, 30_000);

  it('answers hostile tunnel requests with 4xx, never 500 (seeded)', async () => {
    const next = seededRandom(2711);
    const statuses = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
      const target = pick(['10.42.2.5:8080', '10.42.2.5:0', '10.42.2.5:99999', '999.1.1.1:80', '10.42.1.2:8080', hostileString(next, 3), '10.42.2.5']);
      const timeout = pick(['1000', '0', '-5', 'abc', '1e9', '300001', undefined]);
      const scheme = pick(['http', 'https', 'gopher', undefined]);
      const path = pick(['/', '/ok', '/%2e%2e/%2e%2e', `/${encodeURIComponent(hostileString(next, 4))}`]);
      const status = await meshA.client.request(peerB, '10.42.2.5', 8080, { method: 'GET', pathWithQuery: path, scheme: 'http', authority: 'x', headers: [], body: new Uint8Array() }, 5_000)
        .then(() => 200, () => 0);
      expect(status).toBe(200);
      // the same, with the headers forged by hand
      const forged = await new Promise<number>((resolve) => {
        const headers: Record<string, string> = { 'x-skiff-tunnel-target': target };
        if (timeout !== undefined) headers['x-skiff-tunnel-timeout-ms'] = timeout;
        if (scheme !== undefined) headers['x-skiff-tunnel-scheme'] = scheme;
        try {
          const req = httpsRequest({ host: '127.0.0.1', port: meshB.port, path, headers, rejectUnauthorized: false, ...clientTls }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(-1));
          req.end();
        } catch {
          resolve(400); // not even sendable
        }
      });
      statuses.add(forged);
      expect([200, 400, 403], `${target} ${String(timeout)} ${String(scheme)} ${path}`).toContain(forged);
    }
    expect(statuses).toContain(400);
    expect(statuses).toContain(200);
  }, 60_000);

  let clientTls: { key: string; cert: string };
  beforeAll(async () => {
    const issued = await issuer.issue('node-fuzz', []);
    clientTls = { key: issued.key, cert: issued.cert };
  });
});
