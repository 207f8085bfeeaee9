// UDP round trips (part of `npm run bench:network`; alone: `node dist/bench/network-udp.js`): the
// udp-echo example as a pod, the udp-client example (PINGS datagrams of 64 bytes, each waiting for
// its echo, as the guest measures them) from another pod of the same node (datagrams between
// worker threads, no kernel socket) and from a pod of another node over the tunnel's UDP link
// (two NodeNetworks with real meshes on 127.0.0.1: mutual TLS with node certificates of a real CA).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCertificate, nodeTlsPath } from '../agent/credentials/node-certificate.js';
import { NodeMesh } from '../agent/network/mesh.js';
import { NodeNetwork } from '../agent/network/node-network.js';
import { PodNetwork } from '../agent/pods/pod-network.js';
import { ensureTls } from '../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../control-plane/nodes/node-certificates.js';
import { digestOf } from '../runtime/component-digest.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';

const PINGS = Number(process.env['BENCH_UDP_PINGS'] ?? 500);

export async function udpRoundTrips(examplePath: (name: string) => string, log: (line: string) => void = () => undefined) {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-udp-'));
  const runtime = new WasmPodRuntime({ warmWorkers: 2 });
  const meshes: NodeMesh[] = [];
  try {
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    const issuer = new NodeCertificateIssuer(dir, []);
    const meshFor = async (node: string, network: NodeNetwork) => {
      const dataDir = await mkdtemp(join(dir, `${node}-`));
      await writeFile(nodeTlsPath(dataDir), JSON.stringify({ node, ...await issuer.issue(node, ['127.0.0.1']) }));
      const mesh = new NodeMesh({ certificate: new NodeCertificate({ node, token: 'unused', dataDir, ips: [] }), host: '127.0.0.1', port: 0 });
      await mesh.start(network);
      meshes.push(mesh);
      return mesh;
    };
    const a = new NodeNetwork();
    const b = new NodeNetwork();
    const meshA = await meshFor('node-a', a);
    const meshB = await meshFor('node-b', b);
    a.setPeers([{ node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: meshB.port! }]);
    b.setPeers([{ node: 'node-a', podCIDR: '10.42.1.0/24', address: '127.0.0.1', port: meshA.port! }]);
    let instances = 0;
    const pod = (node: NodeNetwork, ip: string) => {
      const network: PodNetwork = new PodNetwork({ podIP: () => ip, sendDatagram: (localPort, host, port, data) => node.udp.send({ network }, localPort, host, port, data) });
      node.attach(ip, { namespace: 'default', name: ip, network });
      return network.ports(`bench/${instances++}`, 'c');
    };
    const load = async (name: string) => {
      const bytes = await readFile(examplePath(name));
      return runtime.load(digestOf(bytes), async () => bytes);
    };
    let out = '';
    const echo = await runtime.start({
      id: 'udp-echo', component: await load('udp-echo'), args: ['udp-echo'], env: [['PORT', '7001']],
      network: pod(b, '10.42.2.5'), onOutput: (_stream, chunk) => { out += Buffer.from(chunk).toString(); },
    });
    while (!out.includes('listening on udp')) await new Promise((resolve) => setTimeout(resolve, 20));
    const client = await load('udp-client');
    const ping = async (label: string, node: NodeNetwork, ip: string) => {
      let printed = '';
      const container = await runtime.start({
        id: `udp-client/${label}`, component: client, args: ['udp-client', '10.42.2.5', '7001', String(PINGS), '64'], env: [],
        network: pod(node, ip), onOutput: (_stream, chunk) => { printed += Buffer.from(chunk).toString(); },
      });
      const exit = await container.exited;
      const parsed = /(\d+) pings of \d+ bytes: p50 (\d+) us p99 (\d+) us, (\d+) resent/.exec(printed);
      if (exit.exitCode !== 0 || !parsed) throw new Error(`udp-client (${label}) failed (${exit.exitCode}): ${printed}`);
      const result = { pings: Number(parsed[1]), roundTripP50Ms: Number(parsed[2]) / 1000, roundTripP99Ms: Number(parsed[3]) / 1000, resent: Number(parsed[4]) };
      log(`udp ${label}: round trip p50 ${result.roundTripP50Ms} ms, p99 ${result.roundTripP99Ms} ms, ${result.resent} resent`);
      return result;
    };
    const sameNode = await ping('same node', b, '10.42.2.6');
    const acrossNodes = await ping('across nodes (tunnel)', a, '10.42.1.6');
    await echo.stop(2_000);
    return { sameNode, acrossNodes, link: { ...meshA.udp.counts } };
  } finally {
    await Promise.all(meshes.map((mesh) => mesh.close()));
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('network-udp.js')) {
  const { dirname, join: joinPath } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { existsSync } = await import('node:fs');
  const examplePath = (name: string) => {
    for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; i++, dir = dirname(dir)) {
      const path = joinPath(dir, 'wasm-examples', name, `${name}.wasm`);
      if (existsSync(path)) return path;
    }
    throw new Error(`no ${name}.wasm`);
  };
  const { loadavg } = await import('node:os');
  const result = await udpRoundTrips(examplePath, (line) => console.error(line));
  console.log(JSON.stringify({ loadAverage: loadavg().map((n) => Number(n.toFixed(2))), udpRoundTrips: result }, null, 2));
}
