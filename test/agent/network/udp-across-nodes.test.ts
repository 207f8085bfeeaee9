// UDP between pods of two nodes over the tunnel (decision 054), with real guests: udp-echo on node
// B, udp-client on node A, two NodeNetworks with real meshes on 127.0.0.1 (mutual TLS with node
// certificates of a real cluster CA): by pod IP and through a Service by name (the replies come
// from the ClusterIP). The receiving node checks each frame: a source outside the calling node's
// pod CIDR is dropped, so is what its ingress policies deny; seeded fuzz of hostile frames on a
// link opened with a node's certificate.
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
import { encodeFrame } from '../../../agent/network/udp-frames.js';
import { UDP_UPGRADE } from '../../../agent/network/udp-tunnel.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import { WasmPodRuntime } from '../../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../../contracts/runtime.contract.js';
import { startComponent } from '../../runtime/support/run-components.js';
import { seededRandom } from '../../support/seeded-random.js';

function pod(node: NodeNetwork, name: string, ip: string) {
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    resolve: async (host) => node.resolve('default', host),
    sendDatagram: (localPort, host, port, data) => node.udp.send({ network }, localPort, host, port, data),
  });
  node.attach(ip, { namespace: 'default', name, network });
  let instance = 0;
  return { network, view: (container: string) => network.ports(`${name}/${container}/${instance++}`, container) };
}

const echoService: DesiredService = {
  namespace: 'default', name: 'echo-svc', clusterIP: '10.96.0.22', ports: [{ name: 'echo', port: 7001, protocol: 'UDP' }],
  endpoints: [{ ips: ['10.42.2.5'], ports: [{ name: 'echo', port: 7001, protocol: 'UDP' }] }],
};

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('UDP between pods of two nodes', () => {
  let dir: string;
  let issuer: NodeCertificateIssuer;
  let runtime: WasmPodRuntime;
  const meshes: NodeMesh[] = [];
  let a: NodeNetwork;
  let b: NodeNetwork;
  let meshB: NodeMesh;
  let client: ReturnType<typeof pod>;
  let server: ReturnType<typeof pod>;

  async function meshFor(node: string, network: NodeNetwork) {
    const dataDir = await mkdtemp(join(dir, `${node}-`));
    await writeFile(nodeTlsPath(dataDir), JSON.stringify({ node, ...await issuer.issue(node, ['127.0.0.1']) }));
    const mesh = new NodeMesh({ certificate: new NodeCertificate({ node, token: 'unused', dataDir, ips: [] }), host: '127.0.0.1', port: 0, connectTimeoutMs: 2_000 });
    await mesh.start(network);
    meshes.push(mesh);
    return mesh;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-udp-nodes-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    issuer = new NodeCertificateIssuer(dir, []);
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    a = new NodeNetwork();
    b = new NodeNetwork();
    const meshA = await meshFor('node-a', a);
    meshB = await meshFor('node-b', b);
    a.setPeers([{ node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: meshB.port! }]);
    b.setPeers([{ node: 'node-a', podCIDR: '10.42.1.0/24', address: '127.0.0.1', port: meshA.port! }]);
    a.setServices([echoService]);
    b.setServices([echoService]);
    client = pod(a, 'client-0', '10.42.1.2');
    server = pod(b, 'echo-0', '10.42.2.5');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(meshes.map((mesh) => mesh.close()));
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('echoes by pod IP and through a Service by name, over one link per node pair', async () => {
    const echo = await startComponent(runtime, exampleBytes('udp-echo'), 'udp-echo', { network: server.view('echo'), env: [['PORT', '7001']] });
    await echo.printed('listening on udp 7001');
    const run = async (host: string, pings: string, size: string) => {
      const started = await startComponent(runtime, exampleBytes('udp-client'), 'udp-client', { network: client.view('client'), args: ['udp-client', host, '7001', pings, size] });
      const exit = await started.container.exited;
      return { exitCode: exit.exitCode, stdout: started.stdout(), stderr: started.stderr() };
    };
    expect(await run('10.42.2.5', '50', '64')).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await run('echo-svc', '20', '65507')).toMatchObject({ exitCode: 0, stderr: '' });
    expect(b.udp.received.delivered).toBeGreaterThanOrEqual(70);
    expect(b.udp.received.forged).toBe(0);
    await echo.container.stop(5_000);
  }, 120_000);

  it('drops frames whose source is not a pod of the sending node, and what ingress policies deny', async () => {
    const got: string[] = [];
    const receive = (from: { host: string; port: number }, data: Uint8Array) => (got.push(`${from.host}:${from.port} ${Buffer.from(data).toString()}`), true);
    expect(server.network.udp.bind('test', 'test', 7100, receive)).toBe(7100);
    const meshA = meshes[0]!;
    const peerB = { node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: meshB.port! };
    await meshA.udp.send(peerB, { host: '10.42.1.2', port: 4000 }, '10.42.2.5', 7100, Buffer.from('ok'));
    await meshA.udp.send(peerB, { host: '10.42.2.9', port: 4000 }, '10.42.2.5', 7100, Buffer.from('forged'));
    await meshA.udp.send(peerB, { host: '10.42.1.2', port: 4000 }, '10.42.2.77', 7100, Buffer.from('no such pod'));
    await until(() => got.length === 1 && b.udp.received.forged === 1 && b.udp.received.unknownPod === 1, 'the first three frames');
    b.policies.set([{ namespace: 'default', name: 'tcp-only', pods: [{ ip: '10.42.2.5' }], ingress: [{ ports: [{ protocol: 'TCP', port: 7100 }] }] }]);
    await meshA.udp.send(peerB, { host: '10.42.1.2', port: 4000 }, '10.42.2.5', 7100, Buffer.from('denied'));
    await until(() => b.udp.received.denied === 1, 'the denied frame');
    b.policies.set([]);
    await meshA.udp.send(peerB, { host: '10.42.1.2', port: 4001 }, '10.42.2.5', 7100, Buffer.from('ok again'));
    await until(() => got.length === 2, 'two datagrams');
    expect(got).toEqual(['10.42.1.2:4000 ok', '10.42.1.2:4001 ok again']);
    expect(b.udp.received).toMatchObject({ forged: 1, unknownPod: 1, denied: 1 });
    server.network.udp.unbind(7100, receive);
  }, 30_000);

  it('survives hostile frames from a node: bad ones end the link, forged sources are dropped (seeded)', async () => {
    const issued = await issuer.issue('node-a', []);
    const got: string[] = [];
    const receive = (from: { host: string; port: number }) => (got.push(from.host), true);
    server.network.udp.bind('fuzz', 'fuzz', 7200, receive);
    const next = seededRandom(5401);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    let validFromA = 0;
    for (let round = 0; round < 30; round++) {
      const link = await new Promise<Duplex>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: meshB.port, method: 'POST', path: '/', headers: { connection: 'Upgrade', upgrade: UDP_UPGRADE }, rejectUnauthorized: false, key: issued.key, cert: issued.cert });
        req.on('upgrade', (_res, socket) => resolve(socket));
        req.on('response', (res) => reject(new Error(`status ${res.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      link.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) {
        const source = pick(['10.42.1.2', '10.42.1.200', '10.42.2.5', '10.0.0.1', '127.0.0.1', '0.0.0.0', '255.255.255.255']);
        const target = pick(['10.42.2.5', '10.42.2.6', '10.42.1.2']);
        const port = pick([7200, 7201, 1, 65535]);
        const data = new Uint8Array(pick([0, 1, 100, 65_507]));
        parts.push(encodeFrame({ host: source, port: 1 + Math.floor(next() * 65535) }, { host: target, port }, data));
        if (source.startsWith('10.42.1.') && target === '10.42.2.5' && port === 7200) validFromA++;
      }
      const hostile = next() < 0.5;
      if (hostile) {
        // a frame too long, a zero length, an unknown version, a zero port: the link ends here
        const bad = pick([[0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0], [0, 0, 0, 13, 9, 10, 42, 1, 2, 0, 1, 10, 42, 2, 5, 0, 1], [0, 0, 0, 13, 1, 10, 42, 1, 2, 0, 0, 10, 42, 2, 5, 28, 32]]);
        parts.push(new Uint8Array(bad), encodeFrame({ host: '10.42.1.2', port: 9 }, { host: '10.42.2.5', port: 7200 }, new Uint8Array(1)));
      }
      const all = Buffer.concat(parts);
      for (let offset = 0; offset < all.length;) {
        const size = 1 + Math.floor(next() * 70_000);
        link.write(all.subarray(offset, offset + size));
        offset += size;
      }
      if (hostile) await closed; // the server ended it
      else {
        await until(() => got.length === validFromA, `${validFromA} valid datagrams`);
        link.destroy();
      }
    }
    expect(got.length).toBe(validFromA);
    expect(new Set(got)).toEqual(new Set(got.filter((ip) => ip.startsWith('10.42.1.'))));
    expect(b.udp.received.forged).toBeGreaterThan(10);
    server.network.udp.unbind(7200, receive);
  }, 120_000);
});
