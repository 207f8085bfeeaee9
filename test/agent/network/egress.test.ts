// Egress out of the cluster through the node network, against a real HTTP(S) server on 127.0.0.1
// standing for "outside" (reached by the name outside.test, which the agent's injected resolver
// maps to 127.0.0.1): denied by default (destination-IP-prohibited, names do not resolve), allowed
// by --allow-egress, restricted by NetworkPolicies, ipBlock rules allowing outside addresses, the
// node's own addresses never opened by a policy alone; ExternalName Services as CNAMEs.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredNetworkPolicy, DesiredService } from '../../../api/mqtt/messages.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { fakePod } from './fake-pods.js';

const lookup = async (name: string) => {
  if (name === 'outside.test' || name === 'www.outside.test') return ['127.0.0.1'];
  if (name === 'far.test') return ['192.0.2.7'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

describe('egress out of the cluster', () => {
  let server: Server;
  let port: number;
  let tlsServer: Server;
  let tlsPort: number;
  let dir: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} host=${req.headers.host} x=${req.headers['x-test'] ?? ''} body=${Buffer.concat(chunks).toString()}`);
        res.setHeader('x-outside', 'yes');
        res.end(`outside ${req.url}`);
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'skiff-egress-'));
    const tls = await ensureTls(dir, { hosts: [] });
    tlsServer = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('secret')).listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.close();
    tlsServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is denied by default: outside names do not resolve, outside IPs are prohibited', async () => {
    const node = new NodeNetwork();
    node.egress.configure({ lookup });
    const client = fakePod(node, 'client', '10.42.0.3', []);
    expect(await client.fails(`outside.test:${port}`)).toBe('DNS-error: lookup outside.test: no such host (names outside the cluster resolve only for pods allowed egress out of it)');
    await expect(node.lookup({ namespace: 'default', network: client.network }, 'outside.test')).rejects.toThrow(/no such host/);
    expect(await client.fails(`127.0.0.1:${port}`)).toBe('connection-refused: dial tcp 10.42.0.3:' + port + ': connect: connection refused'); // the pod's own loopback
    expect(await client.fails('192.0.2.7:80')).toMatch(/^destination-IP-prohibited: egress to 192.0.2.7:80 out of the cluster is denied/);
    expect(await client.fails('nope:80')).toBe('DNS-error: lookup nope: no such host'); // single labels never go out
    expect(await client.fails('nope.default.svc.cluster.local')).toBe('DNS-error: lookup nope.default.svc.cluster.local: no such host');
    expect(seen).toEqual([]);
  });

  it('goes out through the agent\'s network where --allow-egress allows it, with the guest\'s authority, headers and body', async () => {
    const node = new NodeNetwork();
    node.egress.configure({ lookup, allow: ['127.0.0.1/32'] });
    const client = fakePod(node, 'client', '10.42.0.3', []);
    expect(await node.lookup({ namespace: 'default', network: client.network }, 'outside.test.')).toEqual(['127.0.0.1']);
    const response = await client.view.httpRequest!({
      method: 'POST', pathWithQuery: '/in?q=1', scheme: 'http', authority: `outside.test:${port}`,
      headers: [['x-test', 'a'], ['connection', 'close'], ['host', 'spoofed']], body: new TextEncoder().encode('hello'),
    }, { timeoutMs: 10_000 });
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(response.body)).toBe('outside /in?q=1');
    expect(response.headers).toContainEqual(['x-outside', 'yes']);
    expect(seen.at(-1)).toBe(`POST /in?q=1 host=outside.test:${port} x=a body=hello`);
    // an address the flag does not cover, and nothing listening
    expect(await client.fails('far.test:80')).toMatch(/^destination-IP-prohibited: egress to 192.0.2.7:80/);
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    expect(await client.fails(`outside.test:${closedPort}`)).toBe(`connection-refused: dial tcp 127.0.0.1:${closedPort}: connect: connection refused`);
    // https: the agent's TLS verifies the server's certificate (a private CA here: refused)
    const tls = await client.view.httpRequest!({ method: 'GET', pathWithQuery: '/', scheme: 'https', authority: `outside.test:${tlsPort}`, headers: [], body: new Uint8Array() }, { timeoutMs: 10_000 })
      .catch((error: { code: string }) => error.code);
    expect(tls).toBe('TLS-certificate-error');
  });

  it('applies the NetworkPolicies selecting the pod; their ipBlocks open outside addresses, but not the node\'s own', async () => {
    const node = new NodeNetwork();
    node.egress.configure({ lookup, allow: ['127.0.0.1/32'] });
    const client = fakePod(node, 'client', '10.42.0.3', []);
    const egressOnly = (rules: DesiredNetworkPolicy['egress']): DesiredNetworkPolicy => ({ namespace: 'default', name: 'out', pods: [{ ip: '10.42.0.3' }], egress: rules });
    node.policies.set([egressOnly([])]);
    // a policy selecting the pod for egress denies what the agent would allow
    expect(await client.fails(`outside.test:${port}`)).toMatch(/^connection-refused: dial tcp 127.0.0.1:\d+: connection denied by NetworkPolicy: egress of pod default\/client \(10.42.0.3\) is restricted by default\/out/);
    node.policies.set([egressOnly([{ peers: { pods: [], blocks: [{ cidr: '127.0.0.0/8', except: ['127.0.0.2/32'] }] }, ports: [{ port }] }])]);
    expect(await client.get(`outside.test:${port}`, '/ok')).toBe('outside /ok');
    expect(await client.fails(`outside.test:${port + 1 > 65535 ? 1 : port + 1}`)).toMatch(/^connection-refused: .*NetworkPolicy/);

    // without the agent's flag an ipBlock opens outside addresses (the send is caught here: no traffic leaves loopback)...
    const bare = new NodeNetwork();
    bare.egress.configure({ lookup });
    const sent: string[] = [];
    bare.egress.send = async (ip, to, request) => {
      sent.push(`${ip}:${to} ${request.authority}`);
      return { status: 204, headers: [], body: new Uint8Array() };
    };
    const pod = fakePod(bare, 'client', '10.42.0.3', []);
    bare.policies.set([egressOnly([{ peers: { pods: [], blocks: [{ cidr: '0.0.0.0/0' }] } }])]);
    expect(await pod.get('far.test:8080')).toBe('');
    expect(sent).toEqual(['192.0.2.7:8080 far.test:8080']);
    // ...but never the node's loopback or link-local (cloud metadata) addresses
    expect(await pod.fails(`outside.test:${port}`)).toMatch(/^destination-IP-prohibited: egress to 127.0.0.1:\d+ is denied: the node's loopback, link-local/);
    expect(await pod.fails('169.254.169.254')).toMatch(/^destination-IP-prohibited: egress to 169.254.169.254:80 is denied: the node's/);
  });

  it('follows ExternalName Services as CNAMEs: to an outside name (egress rules apply) or a name in the cluster', async () => {
    const node = new NodeNetwork();
    node.egress.configure({ lookup });
    const ext: DesiredService = { namespace: 'default', name: 'ext', externalName: 'www.outside.test', ports: [], endpoints: [] };
    const inner: DesiredService = { namespace: 'default', name: 'alias', externalName: 'web-svc.default.svc.cluster.local', ports: [], endpoints: [] };
    const web: DesiredService = { namespace: 'default', name: 'web-svc', clusterIP: '10.43.0.10', ports: [{ port: 80 }], endpoints: [{ ips: ['10.42.0.2'], ports: [{ port: 8080 }] }] };
    const loop: DesiredService = { namespace: 'default', name: 'loop', externalName: 'loop.default.svc.cluster.local', ports: [], endpoints: [] };
    node.setServices([ext, inner, web, loop]);
    const client = fakePod(node, 'client', '10.42.0.3', []);
    fakePod(node, 'web-1', '10.42.0.2', [8080]);
    expect(await client.get('alias', '/p')).toBe('web-1 alias /p'); // the authority as the guest wrote it
    expect(await node.lookup({ namespace: 'default', network: client.network }, 'alias')).toEqual(['10.43.0.10']);
    expect(await client.fails(`ext:${port}`)).toMatch(/^DNS-error: lookup www.outside.test: no such host/);
    expect(await client.fails('loop')).toMatch(/^DNS-error: lookup loop.default.svc.cluster.local: no such host \(ExternalName/);
    node.egress.configure({ lookup, allow: ['127.0.0.1/32'] });
    expect(await client.get(`ext.default.svc:${port}`, '/cname')).toBe('outside /cname');
    expect(seen.at(-1)).toBe(`GET /cname host=ext.default.svc:${port} x= body=`);
    expect(await node.lookup({ namespace: 'default', network: client.network }, 'ext')).toEqual(['127.0.0.1']);
  });

  it('reaches the API server through the kubernetes Service over TLS verified with the cluster CA, and hand-written endpoints as egress', async () => {
    const node = new NodeNetwork();
    node.egress.configure({ lookup });
    const caCert = (await ensureTls(dir, { hosts: [] })).caCert;
    const kubernetes: DesiredService = {
      namespace: 'default', name: 'kubernetes', clusterIP: '10.43.0.1',
      ports: [{ name: 'https', port: 443 }], endpoints: [{ ips: ['127.0.0.1'], ports: [{ name: 'https', port: tlsPort }] }],
    };
    const db: DesiredService = { namespace: 'default', name: 'db', clusterIP: '10.43.0.5', ports: [{ port: 80 }], endpoints: [{ ips: ['127.0.0.1'], ports: [{ port }] }] };
    node.setServices([kubernetes, db]);
    const client = fakePod(node, 'client', '10.42.0.3', []);
    const https = (authority: string) => client.view.httpRequest!({ method: 'GET', pathWithQuery: '/api', scheme: 'https', authority, headers: [], body: new Uint8Array() }, { timeoutMs: 10_000 })
      .then((r) => `${r.status} ${new TextDecoder().decode(r.body)}`, (error: { code: string; message: string }) => `${error.code}: ${error.message}`);
    // before the control plane announced its API server: the endpoint is just the node's loopback
    expect(await https('kubernetes.default.svc')).toMatch(/^destination-IP-prohibited: egress to 127.0.0.1:\d+ is denied: the node's loopback/);
    node.egress.setApiServer(`https://127.0.0.1:${tlsPort}`, caCert);
    for (const authority of ['kubernetes.default.svc', 'kubernetes.default.svc.cluster.local:443', 'kubernetes.default', '10.43.0.1:443']) {
      expect(await https(authority)).toBe('200 secret');
    }
    // an egress policy selecting the pod still applies
    node.policies.set([{ namespace: 'default', name: 'no-out', pods: [{ ip: '10.42.0.3' }], egress: [] }]);
    expect(await https('kubernetes.default.svc')).toMatch(/^connection-refused: .*restricted by default\/no-out/);
    node.policies.set([]);
    // a Service without a selector whose Endpoints were written by hand: egress rules as for any outside address
    expect(await client.fails('db')).toMatch(/^destination-IP-prohibited: egress to 127.0.0.1:\d+ is denied/);
    node.egress.configure({ allow: ['127.0.0.1/32'] });
    expect(await client.get('db', '/rows')).toBe('outside /rows');
    expect(seen.at(-1)).toBe('GET /rows host=db x= body=');
  });
});
