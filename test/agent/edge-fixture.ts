// A control plane on fixed loopback ports (so it can be killed and restarted with the same data
// dir) and one real agent reaching its broker through a TCP proxy (so the link can be cut), for
// the edge-autonomy tests.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/main.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { KubeClient } from '../../cli/kube-client.js';
import { readKubeconfig } from '../../cli/kubeconfig-reader.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { freeLoopbackPort } from '../mqtt/mosquitto-server.js';
import { startTcpProxy, type TcpProxy } from '../mqtt/tcp-proxy.js';
import { waitFor } from '../mqtt/wait-for.js';

export const NODE = 'edge-1';
export const PODS = '/api/v1/namespaces/default/pods';

export interface EdgeFixture {
  cp: RunningControlPlane;
  agent: Agent;
  proxy: TcpProxy;
  client: KubeClient;
  dataDir: string;
  startCp(): Promise<void>;
  stopCp(): Promise<void>;
  restartAgent(): Promise<void>;
  getPod(name: string): Promise<Pod | undefined>;
  getNode(): Promise<Node | undefined>;
  stop(): Promise<void>;
}

export async function startEdgeFixture(): Promise<EdgeFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-edge-'));
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });
  const [apiPort, mqttPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const proxy = await startTcpProxy(mqttPort);
  const f = { dataDir, proxy } as EdgeFixture;
  f.startCp = async () => {
    f.cp = await startControlPlane({
      dataDir: join(dataDir, 'cp'), logger, apiPort, mqtt: { host: '127.0.0.1', port: mqttPort },
      nodeMonitorGracePeriodMs: 4_000, nodeMonitorCheckIntervalMs: 500,
    });
    f.client?.close();
    f.client = new KubeClient(await readKubeconfig(f.cp.kubeconfigPath));
  };
  f.stopCp = async () => f.cp.stop();
  const launchAgent = async () => {
    f.agent = await startAgent({
      // plain MQTT through a TCP proxy that cuts the link (the TLS path: test/e2e/agent-mqtts.test.ts)
      server: proxy.url, insecureMqtt: true, token: f.cp.nodeToken, name: NODE, dataDir: join(dataDir, 'agent'), logger,
      warmWorkers: 0, keepaliveSeconds: 1, backoff: { initialMs: 100, maxMs: 1000 },
      leaseRenewIntervalMs: 1000, leaseDurationSeconds: 4, fuelPerSecond: 1e9,
    });
  };
  f.restartAgent = async () => {
    await f.agent.stop(1000);
    await launchAgent();
  };
  f.getPod = async (name) => {
    const res = await f.client.request<Pod>('GET', `${PODS}/${name}`);
    return res.status === 200 ? res.body : undefined;
  };
  f.getNode = async () => {
    const res = await f.client.request<Node>('GET', `/api/v1/nodes/${NODE}`);
    return res.status === 200 ? res.body : undefined;
  };
  f.stop = async () => {
    await f.agent?.stop(1000);
    await f.cp?.stop();
    f.client?.close();
    await proxy.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await f.startCp();
    await f.cp.registry.push('examples/sleep:latest', await readFile('wasm-examples/sleep/sleep.wasm'));
    await launchAgent();
    await waitFor('node Ready', async () => readyStatus(await f.getNode()) === 'True', { timeoutMs: 20_000, intervalMs: 50 });
  } catch (error) {
    await f.stop();
    throw error;
  }
  return f;
}

export const readyStatus = (node: Node | undefined) => node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

/** A pod that sleeps forever on the fixture's node. */
export function sleeperPod(name: string) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'examples/sleep:latest' }] },
  };
}

/** The id of the container instance the agent runs for a pod right now (changes on every (re)start). */
export function localContainerId(agent: Agent, name: string): string | undefined {
  const status = agent.pods.findPod('default', name)?.status();
  return status?.containerStatuses?.[0]?.state?.running ? (status.containerStatuses[0] as { containerID?: string }).containerID : undefined;
}
