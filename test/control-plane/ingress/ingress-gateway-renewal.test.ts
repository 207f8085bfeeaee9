// The Ingress gateway's own certificate (CN system:skiff:ingress-gateway, from the cluster CA) is
// renewed before it expires, on the injected clock, against a real node tunnel (NodeMesh on
// 127.0.0.1, a real CA): once less than a third of its validity is left, a new one is issued in the
// background while the old one still serves; a request in flight on an old connection finishes;
// later requests go on new connections with the new certificate; a failed renewal keeps the old
// certificate until it expires and is tried again.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { IngressTunnel, type TunnelCertificate, type TunnelTarget } from '../../../control-plane/ingress/ingress-tunnel.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import type { HttpResponse } from '../../../runtime/pod-runtime.js';
import { FakeClock } from '../../support/fake-clock.js';

/** 90 s: the renewal is due 40 s after issue (a third of 90 + the 60 s the issuer backdates); the test stays within real validity. */
const VALIDITY_DAYS = 90 / 86_400;

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the Ingress gateway certificate renewal', () => {
  let dir: string;
  let mesh: NodeMesh;
  let front: Server;
  let base: string;
  let tunnel: IngressTunnel;
  let target: TunnelTarget;
  let clock = new FakeClock(Date.now());
  let makeTunnel: () => IngressTunnel;
  const issued: TunnelCertificate[] = [];
  let failNext = false;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-ingress-renewal-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    const nodeIssuer = new NodeCertificateIssuer(dir, []);
    const gatewayIssuer = new NodeCertificateIssuer(dir, [], VALIDITY_DAYS);
    const nodeDir = await mkdtemp(join(dir, 'node-b-'));
    await writeFile(nodeTlsPath(nodeDir), JSON.stringify({ node: 'node-b', ...(await nodeIssuer.issue('node-b', ['127.0.0.1'])) }));
    const network = new NodeNetwork();
    const pod = new PodNetwork({ podIP: () => '10.42.2.5' });
    pod.serveHttp('web/main/0', { name: 'main', ports: [{ containerPort: 8080 }] }, async (r): Promise<HttpResponse> => {
      if (r.pathWithQuery === '/slow') await new Promise<void>((resolve) => (release = resolve));
      return { status: 200, headers: [], body: new TextEncoder().encode(`web ${r.pathWithQuery}`) };
    });
    network.attach('10.42.2.5', { namespace: 'default', name: 'web', network: pod });
    mesh = new NodeMesh({ certificate: new NodeCertificate({ node: 'node-b', token: 'unused', dataDir: nodeDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
    await mesh.start(network);
    target = { node: 'node-b', address: '127.0.0.1', port: mesh.port!, podIP: '10.42.2.5', podPort: 8080 };
    makeTunnel = () => new IngressTunnel({
      clock,
      certificate: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('the CA is not readable');
        }
        const cert = await gatewayIssuer.issueGateway(new Date(clock.now()));
        issued.push(cert);
        return cert;
      },
    });
    tunnel = makeTunnel();
    front = createServer((req, res) => {
      void tunnel.forward(target, 'GET', req.url ?? '/', {}, Buffer.alloc(0), res, 10_000).then((outcome) => {
        if (outcome !== 'done') res.writeHead(599).end(JSON.stringify(outcome));
      }, (error: Error) => res.writeHead(598).end(error.message));
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

  const get = (path: string) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });

  it('renews before expiry in the background; a request in flight finishes, later ones use the new certificate', async () => {
    expect(await get('/one')).toEqual({ status: 200, text: 'web /one' });
    expect(await get('/two')).toEqual({ status: 200, text: 'web /two' });
    expect(tunnel.certificates).toBe(1);
    expect(tunnel.connections).toBe(1);

    const slow = get('/slow');
    await until(() => release !== undefined, 'the slow request to reach the pod');
    clock.advance(30_000); // two thirds of the validity not reached: no renewal
    expect(await get('/three')).toEqual({ status: 200, text: 'web /three' }); // a second connection (the first is busy)
    expect(tunnel.certificates).toBe(1);
    expect(tunnel.connections).toBe(2);

    clock.advance(15_000); // now less than a third is left: renewed, the old one serves meanwhile
    expect(await get('/four')).toEqual({ status: 200, text: 'web /four' });
    await until(() => tunnel.certificates === 2, 'the renewal');
    expect(issued).toHaveLength(2);
    const [first, second] = issued.map((c) => new X509Certificate(c.cert));
    expect(second!.subject).toContain('CN=system:skiff:ingress-gateway');
    expect(Date.parse(second!.validTo)).toBeGreaterThan(Date.parse(first!.validTo));
    expect(second!.serialNumber).not.toBe(first!.serialNumber);

    release!(); // the request in flight since before the renewal still gets its answer
    expect(await slow).toEqual({ status: 200, text: 'web /slow' });
    const before = tunnel.connections;
    expect(await get('/five')).toEqual({ status: 200, text: 'web /five' });
    expect(tunnel.connections).toBe(before + 1); // the new certificate's own connection
    expect(await get('/six')).toEqual({ status: 200, text: 'web /six' });
    expect(tunnel.connections).toBe(before + 1); // kept alive
  });

  it('keeps the old certificate while a renewal fails, and tries again', async () => {
    // a gateway of its own whose clock starts now (certificates issued on the fake clock must be valid in real time too)
    tunnel.close();
    clock = new FakeClock(Date.now());
    tunnel = makeTunnel();
    expect(await get('/six')).toEqual({ status: 200, text: 'web /six' });
    clock.advance(45_000); // due for renewal
    failNext = true;
    expect(await get('/seven')).toEqual({ status: 200, text: 'web /seven' });
    await until(() => !failNext, 'the failed renewal');
    await new Promise((resolve) => setImmediate(resolve));
    expect(tunnel.certificates).toBe(1);
    expect(await get('/eight')).toEqual({ status: 200, text: 'web /eight' }); // starts the renewal again
    await until(() => tunnel.certificates === 2, 'the second renewal');
    expect(await get('/nine')).toEqual({ status: 200, text: 'web /nine' });
  });
});
