// Raw TCP across agents (part of `npm run bench:network`; alone: `node dist/bench/network-tcp-nodes.js`):
// a real local cluster of two agents on 127.0.0.2 and 127.0.0.3 (control plane, embedded broker,
// node certificates), the tcp-echo example as a pod on node-2, and the tcp-client example run
// against its pod IP from a pod network on node-2 itself (same node, shared-memory rings), from
// node-1 directly over node-2's tunnel (decision 037), and from node-1 by relay through the control
// plane (decision 038). Echo throughput (MB/s of payload, both ways at once) and 64-byte round
// trips (p50/p99 ms), as the guest measures them; and the set-up cost of a new connection across
// nodes (connect, one byte echoed, close: p50/p99 ms over CONNECTS sequential ones, from node-1's
// pod network to the echo on node-2, direct).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { startLocalCluster } from '../cli/local-cluster.js';
import type { NodeNetwork } from '../agent/network/node-network.js';
import { PodNetwork } from '../agent/pods/pod-network.js';
import { connectDuplex } from '../runtime/net/ring-duplex.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { digestOf } from '../runtime/component-digest.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';

const BYTES = Number(process.env['BENCH_TCP_NODES_BYTES'] ?? 8 << 20);
const PINGS = Number(process.env['BENCH_TCP_NODES_PINGS'] ?? 500);
const CONNECTS = Number(process.env['BENCH_TCP_NODES_CONNECTS'] ?? 100);

export async function tcpAcrossNodes(examplePath: (name: string) => string, log: (line: string) => void = () => undefined) {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-tcp-nodes-'));
  const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents: 2, apiPort: 0, mqttPort: 0, loopbackNodeIPs: true, warmWorkers: 1 });
  const runtime = new WasmPodRuntime({ warmWorkers: 1 });
  try {
    await cluster.cp.registry.push('examples/tcp-echo:latest', await readFile(examplePath('tcp-echo')));
    await cluster.cp.resources.create<Pod>(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', namespace: 'default' },
      spec: {
        nodeName: 'node-2',
        containers: [{ name: 'echo', image: 'examples/tcp-echo:latest', env: [{ name: 'PORT', value: '7000' }], ports: [{ containerPort: 7000 }], readinessProbe: { tcpSocket: { port: 7000 }, periodSeconds: 1 } }],
      },
    } as Pod);
    const deadline = Date.now() + 180_000;
    let podIP: string | undefined;
    while (!podIP) {
      const pod = await cluster.cp.resources.get<Pod>(resourceTypes.pods, 'default', 'echo');
      if (pod.status?.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) podIP = pod.status.podIP;
      else if (Date.now() > deadline) throw new Error('the echo pod did not become Ready');
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const [agentA, agentB] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    while (!agentA.network.peers.owner(podIP)) await new Promise((resolve) => setTimeout(resolve, 100));
    const clientBytes = await readFile(examplePath('tcp-client'));
    const component = await runtime.load(digestOf(clientBytes), async () => clientBytes);
    let runs = 0;
    const echoFrom = async (label: string, node: NodeNetwork, ip: string) => {
      const network: PodNetwork = new PodNetwork({
        podIP: () => ip,
        connect: async (host, port, localPort) => node.connect({ namespace: 'default', network }, host, port, localPort),
      });
      const detach = node.attach(ip, { namespace: 'default', name: `bench-client-${runs}`, network });
      let out = '';
      try {
        const container = await runtime.start({
          id: `tcp-client/${runs++}`, component, args: ['tcp-client', podIP!, '7000', String(BYTES), String(PINGS)], env: [],
          network: network.ports(`bench-client/${runs}`, 'client'), onOutput: (_stream, chunk) => { out += Buffer.from(chunk).toString(); },
        });
        const exit = await container.exited;
        const parsed = /echoed (\d+) bytes in ([\d.]+) ms \(([\d.]+) MB\/s\), (\d+) pings p50 (\d+) us p99 (\d+) us/.exec(out);
        if (exit.exitCode !== 0 || !parsed) throw new Error(`tcp-client (${label}) failed (${exit.exitCode}): ${out}`);
        const result = { bytes: Number(parsed[1]), echoThroughputMBps: Number(parsed[3]), pings: Number(parsed[4]), roundTripP50Ms: Number(parsed[5]) / 1000, roundTripP99Ms: Number(parsed[6]) / 1000 };
        log(`tcp ${label}: ${result.echoThroughputMBps} MB/s echoed, round trip p50 ${result.roundTripP50Ms} ms, p99 ${result.roundTripP99Ms} ms`);
        return result;
      } finally {
        detach();
      }
    };
    // client pods with addresses of their node's pod CIDR (the relay takes sources only from there)
    const podAddress = async (node: string, last: number) => {
      const cidr = (await cluster.cp.resources.get<Node>(resourceTypes.nodes, undefined, node)).spec?.podCIDR ?? '';
      return cidr.replace(/\.\d+\/\d+$/, `.${last}`);
    };
    const sameNode = await echoFrom('same node (node-2)', agentB.network, await podAddress('node-2', 250));
    const mesh = agentA.mesh!;
    mesh.setMode('direct');
    const direct = await echoFrom('across nodes, direct (tunnel)', agentA.network, await podAddress('node-1', 251));
    const connectDirect = await connects(agentA.network, await podAddress('node-1', 253), podIP);
    log(`tcp across nodes, direct: connection set-up (connect, 1 byte echoed, close) p50 ${connectDirect.p50Ms} ms, p99 ${connectDirect.p99Ms} ms`);
    mesh.setMode('relay');
    const relay = await echoFrom('across nodes, by relay (control plane)', agentA.network, await podAddress('node-1', 252));
    return { sameNode, direct, connectDirect, relay, streams: { ...mesh.streams } };
  } finally {
    await runtime.close();
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** CONNECTS connections one after the other from a pod network of `node` to `podIP`:7000, each: connect, 1 byte echoed, FIN both ways. */
async function connects(node: NodeNetwork, ip: string, podIP: string): Promise<{ connects: number; p50Ms: number; p99Ms: number }> {
  const network: PodNetwork = new PodNetwork({ podIP: () => ip });
  const detach = node.attach(ip, { namespace: 'default', name: 'bench-connects', network });
  const times: number[] = [];
  try {
    for (let i = 0; i < CONNECTS; i++) {
      const started = performance.now();
      const stream = connectDuplex(await node.connect({ namespace: 'default', network }, podIP, 7000, 40_000 + i))!;
      await new Promise<void>((resolve, reject) => {
        stream.once('data', () => stream.end());
        stream.once('end', () => resolve());
        stream.once('error', reject);
        stream.resume();
        stream.write(Buffer.from('x'));
      });
      times.push(performance.now() - started);
      stream.destroy();
    }
  } finally {
    detach();
  }
  times.sort((x, y) => x - y);
  const at = (q: number) => Number(times[Math.min(times.length - 1, Math.floor(times.length * q))]!.toFixed(2));
  return { connects: times.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

if (process.argv[1]?.endsWith('network-tcp-nodes.js')) {
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
  const result = await tcpAcrossNodes(examplePath, (line) => console.error(line));
  console.log(JSON.stringify({ loadAverage: loadavg().map((n) => Number(n.toFixed(2))), tcpAcrossNodes: result }, null, 2));
}
