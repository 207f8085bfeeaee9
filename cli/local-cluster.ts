// A whole cluster in one process: the control plane with its embedded broker, and N agents that
// join over MQTT exactly as remote ones do. Used by `skiff up`, the e2e tests and the benchmarks.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Agent } from '../agent/agent.js';
import { startAgent } from '../agent/main.js';
import { defaultAllocatableMemory } from '../agent/node-info.js';
import type { EgressOptions } from '../agent/network/egress.js';
import type { Node } from '../api/types/node.js';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../control-plane/control-plane.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { ComponentCache } from '../runtime/component-cache.js';
import { measureFuelPerSecond } from '../runtime/limits/fuel-calibration.js';

export interface LocalClusterOptions {
  dataDir: string;
  logger: Logger;
  agents: number;
  apiHost?: string;
  apiPort: number;
  mqttHost?: string;
  mqttPort: number;
  /** The embedded broker speaks mqtts:// with the cluster CA (default true); false: plain mqtt://, agents told --insecure-mqtt. */
  mqttTls?: boolean;
  /** An external broker (e.g. mosquitto) instead of the embedded one on mqttHost:mqttPort. */
  externalMqtt?: Extract<ControlPlaneOptions['mqtt'], { url: string }>;
  storeUrl?: string;
  defaultTolerationSeconds?: { notReady: number; unreachable: number };
  /** --cluster-cidr and --node-cidr-mask-size. */
  podCidrs?: ControlPlaneOptions['podCidrs'];
  /** Idle workers each agent keeps started (fast pod starts). */
  warmWorkers?: number;
  readyTimeoutMs?: number;
  /** Each agent its own transpiler and component cache, as separate devices have (default false: one shared; bench:transpile's "before"). */
  separateComponentCaches?: boolean;
  /** Passed to the control plane: how long a silent node stays Ready, and how often that is checked. */
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorCheckIntervalMs?: number;
  /** How often each agent reports container usage (default 15 s). */
  agentMetricsIntervalMs?: number;
  /** How often each agent measures emptyDirs against their sizeLimit (default 10 s). */
  agentSizeLimitCheckIntervalMs?: number;
  /** Each agent's allocatable memory (default: this machine's, shared evenly by the agents: they run on one device). */
  agentAllocatableMemoryBytes?: number;
  /** Each agent's memory limit for containers that set none (default 256 MiB). */
  agentDefaultMemoryLimitBytes?: number;
  /** How the control plane reaches OCI registries (extra CAs, plain-HTTP registries). */
  registries?: ControlPlaneOptions['registries'];
  /** hostPath volumes each agent allows (prefixes; none by default). */
  allowedHostPaths?: string[];
  /** The agents' egress out of the cluster (--allow-egress; tests also give a resolver). */
  agentEgress?: EgressOptions;
  /**
   * Give agent i its own loopback address, localNodeIP(i) (127.0.0.2, 127.0.0.3, ...: Linux routes
   * all of 127/8 to lo), as its node IP: every agent can then serve the same NodePort on one
   * machine. Otherwise all agents report and bind 127.0.0.1.
   */
  loopbackNodeIPs?: boolean;
  /** Serve Ingresses on these ports (the control plane's gateway). */
  ingress?: ControlPlaneOptions['ingress'];
  /** Each agent serves Ingresses on its node IP on these ports too (decision 075; 0: any free port). */
  agentIngress?: { port?: number; tlsPort?: number };
  /**
   * Each agent serves a tunnel (any free port) so pods reach pods of other agents (default: with
   * more than one agent, or an Ingress gateway: it reaches pods through the tunnels, decision 040).
   * `meshMode` as `skiff agent --mesh`.
   */
  tunnel?: boolean;
  meshMode?: 'auto' | 'direct' | 'relay';
}

export interface LocalCluster {
  cp: RunningControlPlane;
  agents: Agent[];
  stop(): Promise<void>;
}

export const localNodeName = (i: number) => `node-${i}`;
/** The loopback address of local agent i (1-based) with loopbackNodeIPs: 127.0.0.(i+1). */
export const localNodeIP = (i: number) => `127.0.0.${i + 1}`;

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const cp = await startControlPlane({
    dataDir: options.dataDir,
    logger: options.logger,
    apiPort: options.apiPort,
    mqtt: options.externalMqtt ?? { host: options.mqttHost ?? '127.0.0.1', port: options.mqttPort, ...(options.mqttTls === false ? {} : { tls: true }) },
    ...(options.apiHost ? { apiHost: options.apiHost } : {}),
    ...(options.storeUrl ? { storeUrl: options.storeUrl } : {}),
    ...(options.defaultTolerationSeconds ? { defaultTolerationSeconds: options.defaultTolerationSeconds } : {}),
    ...(options.podCidrs ? { podCidrs: options.podCidrs } : {}),
    ...(options.nodeMonitorGracePeriodMs ? { nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs } : {}),
    ...(options.nodeMonitorCheckIntervalMs ? { nodeMonitorCheckIntervalMs: options.nodeMonitorCheckIntervalMs } : {}),
    ...(options.registries ? { registries: options.registries } : {}),
    ...(options.ingress ? { ingress: options.ingress } : {}),
    // every agent of a local cluster runs on this machine: it may hold the keys it serves TLS with
    ...(options.agentIngress?.tlsPort !== undefined ? { ingressKeysToAgents: true } : {}),
  });
  const agents: Agent[] = [];
  // one transpiler and component cache for all agents of this process (decision 052)
  const componentCache = options.separateComponentCaches ? undefined : new ComponentCache();
  const stop = async () => {
    await Promise.all(agents.map((a) => a.stop(1000)));
    await componentCache?.close();
    await cp.stop();
  };
  try {
    // one device: measured once, now, rather than by each agent when it first gets pods (a ~0.3 s stall)
    const fuelPerSecond = options.agents > 0 ? measureFuelPerSecond() : undefined;
    const allocatableMemoryBytes = options.agentAllocatableMemoryBytes ?? Math.floor(defaultAllocatableMemory() / Math.max(1, options.agents));
    for (let i = 1; i <= options.agents; i++) {
      const name = localNodeName(i);
      agents.push(await startAgent({
        server: cp.mqttUrl, token: cp.nodeToken, name,
        // the CA of the embedded broker; a plain broker (an external one given as mqtt://, or mqttTls false) was asked for
        ...(cp.mqttUrl.startsWith('mqtts:') ? { mqttCa: cp.caCert } : { insecureMqtt: true }), dataDir: join(options.dataDir, 'agents', name), logger: options.logger, fuelPerSecond,
        allocatableMemoryBytes,
        ...(componentCache ? { componentCache } : {}),
        ...(options.loopbackNodeIPs ? { nodeIP: localNodeIP(i) } : {}),
        ...((options.tunnel ?? (options.agents > 1 || options.ingress !== undefined)) ? { tunnelPort: 0 } : {}),
        ...(options.meshMode ? { meshMode: options.meshMode } : {}),
        ...(options.agentDefaultMemoryLimitBytes !== undefined ? { defaultMemoryLimitBytes: options.agentDefaultMemoryLimitBytes } : {}),
        ...(options.warmWorkers !== undefined ? { warmWorkers: options.warmWorkers } : {}),
        ...(options.agentMetricsIntervalMs ? { metricsIntervalMs: options.agentMetricsIntervalMs } : {}),
        ...(options.agentSizeLimitCheckIntervalMs ? { sizeLimitCheckIntervalMs: options.agentSizeLimitCheckIntervalMs } : {}),
        ...(options.allowedHostPaths ? { allowedHostPaths: options.allowedHostPaths } : {}),
        ...(options.agentEgress ? { egress: options.agentEgress } : {}),
        ...(options.agentIngress ? { ingress: options.agentIngress } : {}),
      }));
    }
    await waitForReadyNodes(cp, options.agents, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { cp, agents, stop };
}

async function waitForReadyNodes(cp: RunningControlPlane, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await cp.resources.list<Node>(resourceTypes.nodes);
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${ready.length} of ${count} agents became Ready within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
