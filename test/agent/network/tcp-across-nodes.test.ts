// Raw TCP between pods of two nodes over the tunnel (decision 037), with real guests: the C
// tcp-echo example listening on node B, the tcp-client example (and the agent's own byte stream)
// on node A, two NodeNetworks with real meshes on 127.0.0.1 (mutual TLS with node certificates of
// a real cluster CA). 8 MiB echoed and checked byte by byte by pod IP, ClusterIP and DNS name;
// half-close; connection-refused when nothing listens; an ingress NetworkPolicy on B denies; a
// guest gone on B resets A's end; seeded fuzz of forged upgrade requests.
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { connectToRemoteService, requestToService } from '../../../agent/network/service-entry.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import { connectDuplex } from '../../../runtime/net/ring-duplex.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../../contracts/runtime.contract.js';
import { startComponent, type Started } from '../../runtime/support/run-components.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

function pod(node: NodeNetwork, name: string, ip: string) {
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    resolve: async (host) => node.resolve('default', host),
    connect: async (host, port, localPort) => node.connect({ namespace: 'default', network }, host, port, localPort),
  });
  node.attach(ip, { namespace: 'default', name, network });
  let instance = 0;
  return { network, view: (container: string) => network.ports(`${name}/${container}/${instance++}`, container) };
}

const echoService: DesiredService = {
  namespace: 'default', name: 'echo-svc', clusterIP: '10.96.0.20', ports: [{ name: 'echo', port: 7000 }],
  endpoints: [{ ips: ['10.42.2.5'], ports: [{ name: 'echo', port: 7000 }] }],
};

const ECHOED = /^echoed (\d+) bytes in [\d.]+ ms \([\d.]+ MB\/s\)/;

/** Everything `stream` gives until its end, or the error that ended it. */
function drain(stream: Duplex): Promise<Buffer | Error> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', (error) => resolve(error));
  });
}

describe('raw TCP between pods of two nodes', () => {
  let dir: string;
  let issuer: NodeCertificateIssuer;
  let runtime: WasmPodRuntime;
  const meshes: NodeMesh[] = [];
  let a: NodeNetwork;
  let b: NodeNetwork;
  let meshA: NodeMesh;
  let meshB: NodeMesh;
  let client: ReturnType<typeof pod>;
  let server: ReturnType<typeof pod>;
  let echo: Started;

  async function meshFor(node: string, network: NodeNetwork) {
    const dataDir = await mkdtemp(join(dir, `${node}-`));
    await writeFile(nodeTlsPath(dataDir), JSON.stringify({ node, ...await issuer.issue(node, ['127.0.0.1']) }));
    const mesh = new NodeMesh({ certificate: new NodeCertificate({ node, token: 'unused', dataDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
    await mesh.start(network);
    meshes.push(mesh);
    return mesh;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-tcp-nodes-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    issuer = new NodeCertificateIssuer(dir, []);
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    a = new NodeNetwork();
    b = new NodeNetwork();
    meshA = await meshFor('node-a', a);
    meshB = await meshFor('node-b', b);
    a.setPeers([{ node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: meshB.port! }]);
    b.setPeers([{ node: 'node-a', podCIDR: '10.42.1.0/24', address: '127.0.0.1', port: meshA.port! }]);
    a.setServices([echoService]);
    b.setServices([echoService]);
    client = pod(a, 'client-0', '10.42.1.2');
    server = pod(b, 'echo-0', '10.42.2.5');
    echo = await startComponent(runtime, exampleBytes('tcp-echo'), 'tcp-echo', { network: server.view('echo'), env: [['PORT', '7000']] });
    await echo.printed('listening on 7000');
  }, 120_000);
  afterAll(async () => {
    for (const m of meshes) await m.close();
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const runClient = async (host: string, bytes: number, pings = 0) => {
    const started = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', { network: client.view('client'), args: ['tcp-client', host, '7000', String(bytes), String(pings)] });
    const exit = await started.container.exited;
    return { exitCode: exit.exitCode, stdout: started.stdout(), stderr: started.stderr() };
  };
  const openFromA = async (host: string, port: number): Promise<Duplex> => {
    const accept = await a.connect({ namespace: 'default', network: client.network }, host, port, 40_001);
    return connectDuplex(accept)!;
  };

  it('echoes 8 MiB from a guest on A to a guest on B by pod IP, ClusterIP and DNS name, byte by byte', async () => {
    const before = meshA.streams.direct;
    const byIP = await runClient('10.42.2.5', 8 << 20, 20);
    expect(byIP).toMatchObject({ exitCode: 0, stderr: '' });
    expect(ECHOED.exec(byIP.stdout)?.[1]).toBe(String(8 << 20));
    expect(await runClient('10.96.0.20', 65536)).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await runClient('echo-svc', 65536)).toMatchObject({ exitCode: 0, stderr: '' });
    expect(meshA.streams.direct - before).toBe(3);
    // the three connections were streams of one HTTP/2 session: one TLS connection (decision 055)
    expect(meshA.sessions.opened).toBe(1);
  }, 240_000);

  it('half-closes: A\'s FIN ends the echo\'s input, its answer still flows back, then end of stream', async () => {
    const stream = await openFromA('10.42.2.5', 7000);
    const answer = drain(stream);
    const payload = Buffer.alloc(300_000, 7);
    stream.end(payload);
    const got = await answer;
    expect(Buffer.isBuffer(got) && got.equals(payload)).toBe(true);
  }, 60_000);

  it('is refused when nothing listens on B, when B\'s ingress policy denies, and for a pod B does not run', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'connected', (e: PodNetworkError) => `${e.code}: ${e.message}`);
    expect(await code(openFromA('10.42.2.5', 7001))).toMatch(/^connection-refused: dial tcp 10.42.2.5:7001 via node node-b: dial tcp 10.42.2.5:7001: connect: connection refused/);
    expect(await code(openFromA('10.42.2.77', 7000))).toMatch(/^destination-unavailable: .*no pod with IP 10.42.2.77 runs on this node/);
    b.policies.set([{ namespace: 'default', name: 'deny-echo', pods: [{ ip: '10.42.2.5' }], ingress: [] }]);
    try {
      expect(await code(openFromA('10.42.2.5', 7000))).toMatch(/^connection-refused: .*denied by NetworkPolicy: ingress of pod default\/echo-0 \(10.42.2.5\) is restricted by default\/deny-echo and no rule allows it from 10.42.1.2/);
      const denied = await runClient('echo-svc', 1);
      expect(denied.stderr).toBe('tcp-client: connect echo-svc:7000 failed: connection-refused\n');
    } finally {
      b.policies.set([]);
    }
  }, 60_000);

  it('carries a NodePort client to B as node A\'s address (SNAT, externalTrafficPolicy Cluster): B\'s ingress policies see it', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'connected', (e: PodNetworkError) => `${e.code}: ${e.message}`);
    const entry = { client: '127.0.0.9', nodeIP: '127.0.0.1' };
    const viaNodePort = async () => {
      const stream = (await connectToRemoteService(a, echoService, 7000, entry))!;
      const answer = drain(stream);
      stream.end(Buffer.from('through a node port'));
      return answer;
    };
    const allowFrom = (blocks: Array<{ cidr: string }>, pods: Array<{ ip: string }> = []) =>
      b.policies.set([{ namespace: 'default', name: 'echo-from', pods: [{ ip: '10.42.2.5' }], ingress: [{ peers: { pods, blocks } }] }]);
    try {
      // node A's address is allowed: the connection is A's (not an unknown 0.0.0.0)
      allowFrom([{ cidr: '127.0.0.1/32' }]);
      expect(String(await viaNodePort())).toBe('through a node port');
      // only A's pods are allowed: the NodePort client (as node A) is not one of them
      allowFrom([], [{ ip: '10.42.1.2' }]);
      expect(await code(viaNodePort())).toMatch(/^connection-refused: .*no rule allows it from 127\.0\.0\.1/);
      // the real client's address is never what B sees (it went through A's SNAT)
      allowFrom([{ cidr: '127.0.0.9/32' }]);
      expect(await code(viaNodePort())).toMatch(/^connection-refused: .*from 127\.0\.0\.1/);
      // a node vouches for its own address only: B's address sent by A counts as unknown
      const forged = await code(a.openRemote(a.peers.owner('10.42.2.5')!, '10.42.2.5', 7000, { host: '127.0.0.7', port: 1 }));
      expect(forged).toMatch(/from 0\.0\.0\.0/);
    } finally {
      b.policies.set([]);
    }
  }, 60_000);

  it('carries a NodePort HTTP request to B as node A\'s address too', async () => {
    const httpService: DesiredService = { ...echoService, name: 'web', clusterIP: '10.96.0.21' };
    b.policies.set([{ namespace: 'default', name: 'only-a-pods', pods: [{ ip: '10.42.2.5' }], ingress: [{ peers: { pods: [{ ip: '10.42.1.2' }], blocks: [] } }] }]);
    try {
      const request = { method: 'GET', pathWithQuery: '/', scheme: 'http' as const, authority: 'web', headers: [], body: new Uint8Array() };
      const answer = await requestToService(a, httpService, 7000, request, 5_000, { client: '127.0.0.9', nodeIP: '127.0.0.1' }).then(() => 'answered', (e: Error) => e.message);
      expect(answer).toMatch(/no rule allows it from 127\.0\.0\.1/);
    } finally {
      b.policies.set([]);
    }
  }, 60_000);

  it('resets A\'s end when the guest on B goes away mid-connection', async () => {
    const stream = await openFromA('10.42.2.5', 7000);
    const answer = drain(stream);
    stream.write(Buffer.alloc(1000, 1));
    await echo.container.stop(5_000);
    const ended = await answer;
    expect(ended).toBeInstanceOf(Error);
    expect((ended as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  }, 60_000);

  it('answers forged upgrade requests with a refusal or a stream, never a crash (seeded)', async () => {
    const issued = await issuer.issue('node-fuzz', []);
    const next = seededRandom(3701);
    const outcomes = new Set<string>();
    for (let i = 0; i < 80; i++) {
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
      const headers: Record<string, string> = {
        connection: 'Upgrade',
        upgrade: pick(['skiff-tcp', 'websocket', 'SKIFF-TCP', hostileString(next, 2).replace(/[^\x21-\x7e]/g, 'x') || 'x']),
        'x-skiff-tunnel-target': pick(['10.42.2.5:7000', '10.42.2.5:0', '10.42.2.5:99999', '999.1.1.1:80', '10.42.1.2:7000', '10.42.2.5', '..', hostileString(next, 3).replace(/[^\x20-\x7e]/g, '')]),
        'x-skiff-tunnel-source': pick(['10.42.1.2:5', '10.42.2.5:1', '1.2.3.4:5', '', 'x'.repeat(5000), '../..']),
      };
      const outcome = await new Promise<string>((resolve) => {
        const req = httpsRequest({ host: '127.0.0.1', port: meshB.port, method: pick(['POST', 'GET']), path: '/', headers, rejectUnauthorized: false, key: issued.key, cert: issued.cert });
        req.on('upgrade', (_res, socket) => { socket.destroy(); resolve('101'); });
        req.on('response', (res) => { res.resume(); resolve(String(res.statusCode)); });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? ''}`));
        req.end();
      });
      outcomes.add(outcome);
      expect(['400', '403', '502', 'error ECONNRESET', 'error HPE_INVALID_CONSTANT']).toContain(outcome);
    }
    expect(outcomes).toContain('400');
  }, 60_000);
});
