// A real Ingress gateway for tests of one piece: its listeners, routing and tunnel client against a
// real node tunnel (NodeMesh on 127.0.0.1, a real cluster CA), with the Service, Endpoints, Pod,
// Node and TLS Secret it reads served from a map instead of a store. The pod 10.42.2.5:8080 is an
// HTTP handler that answers what it saw (method, authority, path, headers) as JSON; 10.42.2.5:7000
// is a raw TCP listener that echoes after answering an upgrade with 101 (with the Sec-WebSocket-Accept
// of a WebSocket key, except under /raw/no-accept and /raw/wrong-accept).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generate } from 'selfsigned';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { IngressGateway } from '../../../control-plane/ingress/ingress-gateway.js';
import { websocketAccept } from '../../../control-plane/ingress/ingress-h2-websocket.js';
import { IngressTable } from '../../../api/ingress/ingress-router.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import type { Ingress } from '../../../control-plane/resources/kinds/services.js';
import type { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import type { ResourceType } from '../../../control-plane/resources/resource-types.js';
import { duplexAcceptor } from '../../../runtime/net/ring-duplex.js';
import type { HttpRequest, HttpResponse } from '../../../runtime/pod-runtime.js';
import { FakeClock } from '../../support/fake-clock.js';

export const HOST = 'h2.example.test';

export interface GatewayFixture {
  gateway: IngressGateway;
  httpPort: number;
  httpsPort: number;
  /** PEM of the Secret's certificate for HOST (a client may trust it alone). */
  hostCert: string;
  seen: HttpRequest[];
  /** What the raw listener on 7000 got: the request head and the source address it saw. */
  upgrades: Array<{ head: string; from: string }>;
  stop(): Promise<void>;
}

export async function startGatewayFixture(options: { upgradePort?: boolean } = {}): Promise<GatewayFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-gateway-fixture-'));
  await ensureTls(dir, { hosts: ['127.0.0.1'] });
  const issuer = new NodeCertificateIssuer(dir, []);
  const nodeDir = await mkdtemp(join(dir, 'node-b-'));
  await writeFile(nodeTlsPath(nodeDir), JSON.stringify({ node: 'node-b', ...(await issuer.issue('node-b', ['127.0.0.1'])) }));
  const network = new NodeNetwork();
  const pod = new PodNetwork({ podIP: () => '10.42.2.5' });
  const seen: HttpRequest[] = [];
  pod.serveHttp('web/main/0', { name: 'main', ports: [{ containerPort: 8080 }] }, async (r: HttpRequest): Promise<HttpResponse> => {
    seen.push(r);
    const body = JSON.stringify({ method: r.method, authority: r.authority, path: r.pathWithQuery, headers: r.headers, length: r.body.length });
    return { status: 200, headers: [['content-type', 'application/json'], ['x-served-by', 'web']], body: new TextEncoder().encode(body) };
  });
  const upgrades: GatewayFixture['upgrades'] = [];
  pod.ports('raw/main/0', 'raw').listening(7000, 'TCP', duplexAcceptor((stream, end) => {
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => {
      if (upgraded) return void stream.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      const at = buffered.indexOf('\r\n\r\n');
      if (at < 0) return;
      upgraded = true;
      upgrades.push({ head: buffered.subarray(0, at).toString('latin1'), from: end.from?.host ?? '' });
      // a WebSocket handshake gets its Sec-WebSocket-Accept (none under /raw/no-accept, a wrong one under /raw/wrong-accept)
      const head = buffered.subarray(0, at).toString('latin1');
      const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head)?.[1];
      const path = head.split(' ')[1] ?? '';
      const accept = !key || path.startsWith('/raw/no-accept') ? '' : `sec-websocket-accept: ${websocketAccept(path.startsWith('/raw/wrong-accept') ? `${key}x` : key)}\r\n`;
      stream.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n${accept}\r\n`);
      if (buffered.length > at + 4) stream.write(buffered.subarray(at + 4));
    });
    stream.on('end', () => stream.end());
  }));
  network.attach('10.42.2.5', { namespace: 'default', name: 'web', network: pod });
  const mesh = new NodeMesh({ certificate: new NodeCertificate({ node: 'node-b', token: 'unused', dataDir: nodeDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
  await mesh.start(network);

  const hostTls = await generate([{ name: 'commonName', value: HOST }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: HOST }] }] });
  const fake = await generate([{ name: 'commonName', value: 'skiff ingress default certificate' }], { keyType: 'ec', algorithm: 'sha256' });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const ports = [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'raw', port: 7000, targetPort: 7000 }];
  const objects: Record<string, object> = {
    'Service/default/web': { metadata: { name: 'web', namespace: 'default' }, spec: { ports } },
    'Endpoints/default/web': {
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.42.2.5', targetRef: { kind: 'Pod', name: 'web-0' } }], ports: [{ name: 'http', port: 8080 }, { name: 'raw', port: 7000 }] }],
    },
    'Pod/default/web-0': { metadata: { name: 'web-0', namespace: 'default' }, spec: { nodeName: 'node-b', containers: [] }, status: { podIP: '10.42.2.5' } },
    'Node//node-b': {
      metadata: { name: 'node-b' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: mesh.port! } } },
    },
    'Secret/default/h2-tls': { metadata: { name: 'h2-tls', namespace: 'default', resourceVersion: '1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(hostTls.cert), 'tls.key': b64(hostTls.private) } },
  };
  const resources = {
    get: async (type: ResourceType, namespace: string | undefined, name: string) => {
      const found = objects[`${type.kind}/${namespace ?? ''}/${name}`];
      if (!found) throw new Error(`${type.kind} ${name} not found`);
      return structuredClone(found);
    },
  } as unknown as ResourceStore;
  const clock = new FakeClock(Date.now());
  const gateway = new IngressGateway({
    resources, source: () => undefined, host: '127.0.0.1', port: 0, tlsPort: 0, defaultCert: { cert: fake.cert, key: fake.private },
    logger: pino({ level: 'silent' }), clock, tunnelCertificate: () => issuer.issueGateway(new Date(clock.now())),
  });
  const ingress: Ingress = {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'h2', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      tls: [{ hosts: [HOST], secretName: 'h2-tls' }],
      rules: [{ host: HOST, http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
        ...(options.upgradePort ? [{ path: '/raw', pathType: 'Prefix' as const, backend: { service: { name: 'web', port: { number: 7000 } } } }] : []),
        { path: '/gone', pathType: 'Prefix', backend: { service: { name: 'nope', port: { number: 80 } } } },
      ] } }],
    },
  };
  gateway.setTable(new IngressTable([ingress]));
  await gateway.start();
  return {
    gateway, httpPort: gateway.addresses.http!.port, httpsPort: gateway.addresses.https!.port, hostCert: hostTls.cert, seen, upgrades,
    stop: async () => {
      await gateway.stop();
      await mesh.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
