// UDP round trips across agents, directly and by relay (part of `npm run bench:network`; alone:
// `node dist/bench/network-udp-relay.js`): a real local cluster of two agents on 127.0.0.2 and
// 127.0.0.3 (control plane, embedded broker, node certificates), the udp-echo example as a pod on
// node-2, and the udp-client example (PINGS datagrams of 64 bytes, each waiting for its echo, as the
// guest measures them) from a pod network on node-1, first over node-2's tunnel, then with both
// agents in `--mesh relay` mode: each datagram goes A -> control plane (HTTPS link) -> node channel
// (MQTT) -> B, and the echo back the same way (decision 054, "By relay").
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import { startLocalCluster } from '../cli/local-cluster.js';
import { PodNetwork } from '../agent/pods/pod-network.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { digestOf } from '../runtime/component-digest.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';

const PINGS = Number(process.env['BENCH_UDP_PINGS'] ?? 500);

export async function udpAcrossNodesByRelay(examplePath: (name: string) => string, log: (line: string) => void = () => undefined) {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-udp-relay-'));
  const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents: 2, apiPort: 0, mqttPort: 0, loopbackNodeIPs: true, warmWorkers: 1 });
  const runtime = new WasmPodRuntime({ warmWorkers: 1 });
  try {
    await cluster.cp.registry.push('examples/udp-echo:latest', await readFile(examplePath('udp-echo')));
    await cluster.cp.resources.create<Pod>(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', namespace: 'default' },
      spec: { nodeName: 'node-2', containers: [{ name: 'echo', image: 'examples/udp-echo:latest', env: [{ name: 'PORT', value: '7001' }], ports: [{ containerPort: 7001, protocol: 'UDP' }] }] },
    } as Pod);
    const deadline = Date.now() + 180_000;
    let podIP: string | undefined;
    while (!podIP) {
      const pod = await cluster.cp.resources.get<Pod>(resourceTypes.pods, 'default', 'echo');
      if (pod.status?.podIP && pod.status.phase === 'Running') podIP = pod.status.podIP;
      else if (Date.now() > deadline) throw new Error('the echo pod did not start');
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const [agentA, agentB] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    while (!agentA.network.peers.owner(podIP)) await new Promise((resolve) => setTimeout(resolve, 100));
    // the client's address in node-1's pod CIDR (node-2 and the relay take sources only from there)
    const cidr = (await cluster.cp.resources.get<Node>(resourceTypes.nodes, undefined, 'node-1')).spec?.podCIDR ?? '';
    const clientIP = cidr.replace(/\.\d+\/\d+$/, '.250');
    while (!agentB.network.peers.owner(clientIP)) await new Promise((resolve) => setTimeout(resolve, 100));
    const clientBytes = await readFile(examplePath('udp-client'));
    const component = await runtime.load(digestOf(clientBytes), async () => clientBytes);
    let runs = 0;
    const ping = async (label: string) => {
      const node = agentA.network;
      const network: PodNetwork = new PodNetwork({ podIP: () => clientIP, sendDatagram: (localPort, host, port, data) => node.udp.send({ network }, localPort, host, port, data) });
      const detach = node.attach(clientIP, { namespace: 'default', name: `bench-client-${runs}`, network });
      let printed = '';
      try {
        const container = await runtime.start({
          id: `udp-client/${runs++}`, component, args: ['udp-client', podIP!, '7001', String(PINGS), '64'], env: [],
          network: network.ports(`bench-client/${runs}`, 'client'), onOutput: (_stream, chunk) => { printed += Buffer.from(chunk).toString(); },
        });
        const exit = await container.exited;
        const parsed = /(\d+) pings of \d+ bytes: p50 (\d+) us p99 (\d+) us, (\d+) resent/.exec(printed);
        if (exit.exitCode !== 0 || !parsed) throw new Error(`udp-client (${label}) failed (${exit.exitCode}): ${printed}`);
        const result = { pings: Number(parsed[1]), roundTripP50Ms: Number(parsed[2]) / 1000, roundTripP99Ms: Number(parsed[3]) / 1000, resent: Number(parsed[4]) };
        log(`udp ${label}: round trip p50 ${result.roundTripP50Ms} ms, p99 ${result.roundTripP99Ms} ms, ${result.resent} resent`);
        return result;
      } finally {
        detach();
      }
    };
    const meshes = [agentA.mesh!, agentB.mesh!];
    for (const mesh of meshes) mesh.setMode('direct');
    const direct = await ping('across nodes, direct (tunnel)');
    for (const mesh of meshes) mesh.setMode('relay');
    const relay = await ping('across nodes, by relay (control plane)');
    return {
      direct, relay, relayP50Ratio: Number((relay.roundTripP50Ms / direct.roundTripP50Ms).toFixed(2)),
      links: { direct: { ...meshes[0]!.udp.counts }, relay: { ...meshes[0]!.udpRelay?.counts } },
    };
  } finally {
    await runtime.close();
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('network-udp-relay.js')) {
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
  const result = await udpAcrossNodesByRelay(examplePath, (line) => console.error(line));
  console.log(JSON.stringify({ loadAverage: loadavg().map((n) => Number(n.toFixed(2))), udpAcrossNodesByRelay: result }, null, 2));
}
