// The Ingress gateway's way to pods through the agents' tunnels (decision 040), against a real
// tunnel server (NodeMesh on 127.0.0.1, a real cluster CA, a fake handler in a real PodNetwork):
// the gateway's certificate is accepted and kept-alive connections are reused; the node must be
// the one named; a refused port is a "refused" outcome (the next endpoint may be tried); another
// CA-signed identity that is not a node nor the gateway gets 403; a seeded fuzz of what the
// gateway may send never crashes either side.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls, issueClientCertificate } from '../../../control-plane/api/tls.js';
import { GatewayTunnelError, IngressTunnel, tunnelRequestHeaders, type TunnelOutcome, type TunnelTarget } from '../../../control-plane/ingress/ingress-tunnel.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import type { HttpRequest, HttpResponse } from '../../../runtime/pod-runtime.js';
import { FakeClock } from '../../support/fake-clock.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

describe('the Ingress gateway through a node tunnel', () => {
  let dir: string;
  let mesh: NodeMesh;
  let tunnel: IngressTunnel;
  let front: Server;
  let base: string;
  const clock = new FakeClock(Date.now());
  const seen: HttpRequest[] = [];
  let target: TunnelTarget;
  let outcomes: Array<TunnelOutcome | string>;
  let moved: TunnelTarget | undefined; // node-b at a second address (the moved-node test)
  let nodeDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-ingress-tunnel-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    const issuer = new NodeCertificateIssuer(dir, []);
    nodeDir = await mkdtemp(join(dir, 'node-b-'));
    await writeFile(nodeTlsPath(nodeDir), JSON.stringify({ node: 'node-b', ...(await issuer.issue('node-b', ['127.0.0.1'])) }));
    const network = new NodeNetwork();
    const pod = new PodNetwork({ podIP: () => '10.42.2.5' });
    pod.serveHttp('web/main/0', { name: 'main', ports: [{ containerPort: 8080 }] }, async (r: HttpRequest): Promise<HttpResponse> => {
      seen.push(r);
      return { status: r.pathWithQuery === '/teapot' ? 418 : 200, headers: [['x-served-by', 'web'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']], body: new TextEncoder().encode(`web ${r.method} ${r.authority}${r.pathWithQuery} ${r.body.length}`) };
    });
    network.attach('10.42.2.5', { namespace: 'default', name: 'web', network: pod });
    mesh = new NodeMesh({ certificate: new NodeCertificate({ node: 'node-b', token: 'unused', dataDir: nodeDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
    await mesh.start(network);
    target = { node: 'node-b', address: '127.0.0.1', port: mesh.port!, podIP: '10.42.2.5', podPort: 8080 };
    tunnel = new IngressTunnel({ certificate: () => issuer.issueGateway(new Date(clock.now())), clock });
    // a stand-in for the gateway's front: what the client sent goes to `target` through the tunnel
    outcomes = [];
    front = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers as IncomingHttpHeaders)) if (typeof value === 'string' && name !== 'connection' && name !== 'content-length') headers[name] = value;
        if (req.headers['x-drop-host']) delete headers['host']; // as from an HTTP/1.0 client that sent none
        const to = req.headers['x-moved'] && moved ? moved : req.headers['x-to'] === 'node-c' ? { ...target, node: 'node-c' } : req.headers['x-port'] ? { ...target, podPort: Number(req.headers['x-port']) } : target;
        tunnel.forward(to, req.method ?? 'GET', req.url ?? '/', headers, Buffer.concat(chunks), res, 10_000).then((outcome) => {
          outcomes.push(outcome);
          if (outcome !== 'done') res.writeHead(599).end(JSON.stringify(outcome));
        }, (error: Error) => {
          outcomes.push(error instanceof GatewayTunnelError ? `${error.status}` : `crash: ${error.message}`);
          if (!res.headersSent) res.writeHead(error instanceof GatewayTunnelError ? error.status : 500).end(error.message);
        });
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    tunnel?.close();
    front?.close();
    await mesh?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (path: string, headers: Record<string, string> = {}, method = 'GET', body = '') => new Promise<{ status: number; text: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });

  it('carries requests to the pod over one kept-alive connection', async () => {
    for (let i = 0; i < 20; i++) {
      const answer = await send(`/page/${i}?q=1`, { host: 'shop.example.test', 'x-forwarded-for': '127.0.0.9' }, 'POST', 'hello');
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(`web POST shop.example.test/page/${i}?q=1 5`);
      expect(answer.headers['x-served-by']).toBe('web');
      expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    }
    expect((await send('/teapot')).status).toBe(418);
    expect(seen.at(-2)!.headers).toContainEqual(['x-forwarded-for', '127.0.0.9']);
    expect(seen.some((r) => r.headers.some(([n]) => n.startsWith('x-skiff-tunnel-')))).toBe(false);
    expect(tunnel.connections).toBe(1);
  });

  it('gives the tunnel a Host when the client sent none, and its own headers only once, whatever their case', async () => {
    const answer = await send('/no-host', { 'x-drop-host': '1' });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(`web GET 10.42.2.5:8080/no-host 0`);
    const raw = tunnelRequestHeaders(target, { host: 'a.test', 'X-Skiff-Tunnel-Target': '10.9.9.9:1', 'content-length': '99', accept: '*/*' }, 3, 10_000);
    const names = raw.filter((_, i) => i % 2 === 0);
    expect(names.filter((n) => n.toLowerCase() === 'x-skiff-tunnel-target')).toEqual(['x-skiff-tunnel-target']);
    expect(raw[raw.indexOf('x-skiff-tunnel-target') + 1]).toBe('10.42.2.5:8080');
    expect(raw[raw.indexOf('x-skiff-tunnel-authority') + 1]).toBe('a.test');
    expect(names.filter((n) => n === 'content-length')).toHaveLength(1);
    expect(raw[raw.indexOf('content-length') + 1]).toBe('3');
    // node:http adds no Host to a head given as pairs, and an HTTP/1.1 server may refuse a request without one
    const bare = tunnelRequestHeaders(target, {}, 0, 10_000);
    expect(bare.slice(0, 2)).toEqual(['host', `127.0.0.1:${target.port}`]);
  });

  it('follows a node to a new address: a kept-alive connection to the old one is not reused', async () => {
    expect((await send('/before')).status).toBe(200); // leaves an idle kept-alive connection to the first address
    const network = new NodeNetwork();
    const pod = new PodNetwork({ podIP: () => '10.42.2.5' });
    pod.serveHttp('web/main/1', { name: 'main', ports: [{ containerPort: 8080 }] }, async (): Promise<HttpResponse> => ({ status: 200, headers: [], body: new TextEncoder().encode('at the new address') }));
    network.attach('10.42.2.5', { namespace: 'default', name: 'web', network: pod });
    const second = new NodeMesh({ certificate: new NodeCertificate({ node: 'node-b', token: 'unused', dataDir: nodeDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
    await second.start(network);
    try {
      moved = { ...target, port: second.port! };
      const answer = await send('/after', { 'x-moved': '1' });
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('at the new address');
    } finally {
      moved = undefined;
      await second.close();
    }
  });

  it('says "refused" for a port nothing holds, so the gateway tries the next endpoint', async () => {
    const answer = await send('/', { 'x-port': '9999' });
    expect(answer.status).toBe(599);
    expect(JSON.parse(answer.text)).toMatchObject({ rawListener: false, refused: expect.stringMatching(/connection refused/) });
  });

  it('never takes another node for the one that runs the pod: unreachable, and not tried again for a while', async () => {
    const answer = await send('/', { 'x-to': 'node-c' });
    expect(JSON.parse(answer.text)).toMatchObject({ unreachable: expect.stringMatching(/system:node:node-b, not system:node:node-c/) });
    expect(tunnel.usable('node-c')).toBe(false);
    expect(tunnel.usable('node-b')).toBe(true);
    clock.advance(31_000);
    expect(tunnel.usable('node-c')).toBe(true);
  });

  it('refuses identities of the cluster CA that are neither a node nor the gateway', async () => {
    const other = await issueClientCertificate(dir, { user: 'system:skiff:ingress-gateway-not', groups: ['system:skiff-gateways'], days: 1 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: target.port, path: '/', key: other.key, cert: other.cert, ca: other.caCert, servername: '',
        checkServerIdentity: () => undefined, headers: { 'x-skiff-tunnel-target': '10.42.2.5:8080' },
      }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('survives a seeded fuzz of methods, paths and headers', async () => {
    const next = seededRandom(40);
    const before = outcomes.length;
    for (let i = 0; i < 60; i++) {
      const path = `/${encodeURIComponent(hostileString(next)).slice(0, 2000)}`;
      const value = hostileString(next).replace(/[^\x20-\x7e]/g, '').slice(0, 4000);
      const method = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'][Math.floor(next() * 6)]!;
      const answer = await send(path, { 'x-fuzz': value, 'x-skiff-tunnel-target': '10.42.9.9:1', 'x-skiff-tunnel-source': value.slice(0, 60) }, method, hostileString(next));
      // 400: node:http's parser in front refused the request itself (it never reached the tunnel)
      expect([200, 400, 502, 599], `${answer.status} ${answer.text}`).toContain(answer.status);
    }
    expect(outcomes.length - before).toBeGreaterThan(30);
    expect(outcomes.slice(before).filter((o) => typeof o === 'string' && o.startsWith('crash'))).toEqual([]);
    expect((await send('/after-fuzz')).status).toBe(200);
  });
});
