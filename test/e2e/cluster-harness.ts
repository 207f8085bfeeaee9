// Starts a real cluster for e2e tests: control plane (HTTPS API, SQLite store, embedded MQTT broker
// on ephemeral loopback ports, or Debian's mosquitto) and agents joined over MQTT, with a
// KubeClient and the real kubectl to drive it, and the examples a suite names already pushed.
// `e2eBrokers()` lists the brokers an agent suite should run against.
import type { EgressOptions } from '../../agent/network/egress.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Agent } from '../../agent/agent.js';
import { KubeClient, type WatchEvent } from '../../cli/kube-client.js';
import { readKubeconfig } from '../../cli/kubeconfig-reader.js';
import type { RunningControlPlane } from '../../control-plane/control-plane.js';
import { startLocalCluster } from '../../cli/local-cluster.js';
import { BOOTSTRAP_MQTT_USER } from '../../api/mqtt/node-credential.js';
import { startMosquitto, type MosquittoServer } from '../mqtt/mosquitto-server.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';

export type E2eBroker = 'embedded' | 'mosquitto';

/** The embedded broker, and mosquitto where it is installed (required in CI). */
export function e2eBrokers(suite: string): E2eBroker[] {
  return hasTool('mosquitto', `${suite} on mosquitto`) ? ['embedded', 'mosquitto'] : ['embedded'];
}

const CP_MQTT_USER = 'skiff-cp';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  cp: RunningControlPlane;
  agents: Agent[];
  client: KubeClient;
  dataDir: string;
  /** The real kubectl against this cluster (its own HOME: no cache shared between suites); `input` on stdin. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** kubectl's stdout; rejects with its stderr when it exits non-zero. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  agents?: number;
  storeUrl?: string;
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorCheckIntervalMs?: number;
  agentMetricsIntervalMs?: number;
  agentSizeLimitCheckIntervalMs?: number;
  agentAllocatableMemoryBytes?: number;
  agentDefaultMemoryLimitBytes?: number;
  /** Default: the embedded broker. */
  broker?: E2eBroker;
  /** How the control plane reaches OCI registries (the test registry's CA). */
  registries?: { caCerts?: string[]; insecureRegistries?: string[] };
  /** hostPath prefixes the agents allow. */
  allowedHostPaths?: string[];
  /** The agents' egress out of the cluster (allowed CIDRs, a resolver for outside names). */
  agentEgress?: EgressOptions;
  /** Agent i gets node IP 127.0.0.(i+1) (as `skiff up` does) instead of 127.0.0.1. */
  loopbackNodeIPs?: boolean;
  /** Serve Ingresses (0: any free port). */
  ingress?: { port: number; tlsPort?: number };
  /** Each agent serves Ingresses on its node IP too (decision 075; 0: any free port). */
  agentIngress?: { port?: number; tlsPort?: number };
  /** Agents serve tunnels to each other (default: with more than one agent). */
  tunnel?: boolean;
  meshMode?: 'auto' | 'direct' | 'relay';
  /** --cluster-cidr and --node-cidr-mask-size of the control plane. */
  podCidrs?: { clusterCidr?: string; nodeCidrMaskSize?: number };
  /** Examples pushed as examples/NAME:latest before the cluster is handed out (wasm-examples/NAME/NAME.wasm). */
  examples?: string[];
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-e2e-'));
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });
  let mosquitto: MosquittoServer | undefined;
  if (options.broker === 'mosquitto') {
    // the control plane rewrites the password file with its real password before it connects
    mosquitto = await startMosquitto({ controlPlaneUsers: { [CP_MQTT_USER]: 'placeholder' }, nodeUsers: {}, bootstrapUser: BOOTSTRAP_MQTT_USER });
  }
  const server = mosquitto;
  const local = await startLocalCluster({
    ...(server ? { externalMqtt: { url: server.url, username: CP_MQTT_USER, mosquitto: { passwordFile: server.passwordFile, reload: () => server.reload() } } } : {}),
    dataDir, logger, agents: options.agents ?? 1, apiPort: 0, mqttPort: 0, warmWorkers: 1,
    ...(options.storeUrl ? { storeUrl: options.storeUrl } : {}),
    ...(options.nodeMonitorGracePeriodMs ? { nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs } : {}),
    ...(options.nodeMonitorCheckIntervalMs ? { nodeMonitorCheckIntervalMs: options.nodeMonitorCheckIntervalMs } : {}),
    ...(options.agentMetricsIntervalMs ? { agentMetricsIntervalMs: options.agentMetricsIntervalMs } : {}),
    ...(options.agentSizeLimitCheckIntervalMs ? { agentSizeLimitCheckIntervalMs: options.agentSizeLimitCheckIntervalMs } : {}),
    ...(options.agentAllocatableMemoryBytes ? { agentAllocatableMemoryBytes: options.agentAllocatableMemoryBytes } : {}),
    ...(options.agentDefaultMemoryLimitBytes ? { agentDefaultMemoryLimitBytes: options.agentDefaultMemoryLimitBytes } : {}),
    ...(options.registries ? { registries: options.registries } : {}),
    ...(options.allowedHostPaths ? { allowedHostPaths: options.allowedHostPaths } : {}),
    ...(options.agentEgress ? { agentEgress: options.agentEgress } : {}),
    ...(options.loopbackNodeIPs ? { loopbackNodeIPs: true } : {}),
    ...(options.ingress ? { ingress: options.ingress } : {}),
    ...(options.agentIngress ? { agentIngress: options.agentIngress } : {}),
    ...(options.tunnel !== undefined ? { tunnel: options.tunnel } : {}),
    ...(options.meshMode ? { meshMode: options.meshMode } : {}),
    ...(options.podCidrs ? { podCidrs: options.podCidrs } : {}),
  }).catch(async (error: unknown) => {
    await mosquitto?.stop();
    throw error;
  });
  const client = new KubeClient(await readKubeconfig(local.cp.kubeconfigPath));
  const stop = async () => {
    client.close();
    await local.stop();
    await mosquitto?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    for (const name of options.examples ?? []) {
      await local.cp.registry.push(`examples/${name}:latest`, await readFile(`wasm-examples/${name}/${name}.wasm`));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const env = { PATH: process.env['PATH'], HOME: dataDir, KUBECONFIG: local.cp.kubeconfigPath };
  const kubectl = (args: string[], input?: string) => runKubectl(args, env, input);
  return {
    cp: local.cp, agents: local.agents, client, dataDir, kubectl, stop,
    async kubectlOk(args, input) {
      const result = await kubectl(args, input);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    },
  };
}

const KUBECTL_TIMEOUT_MS = 120_000;

function runKubectl(args: string[], env: Record<string, string | undefined>, input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TOOL_PATHS.kubectl, args, { env, timeout: KUBECTL_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}(killed by ${signal})` : stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Watches `path` until `predicate` holds for an event's object; rejects after `timeoutMs`. */
export async function waitFor<T>(client: KubeClient, path: string, predicate: (event: WatchEvent<T>) => boolean, timeoutMs = 20_000): Promise<T> {
  const abort = new AbortController();
  let found: T | undefined;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const sep = path.includes('?') ? '&' : '?';
  await client.watch<T>(`${path}${sep}resourceVersion=0`, (event) => {
    if (found === undefined && predicate(event)) {
      found = event.object;
      abort.abort();
    }
  }, abort.signal).catch((error: Error) => {
    if (!abort.signal.aborted) throw error;
  });
  clearTimeout(timer);
  if (found === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting on ${path}`);
  return found;
}
