// Wires one agent from concrete parts: node credential, MQTT channel, Wasm runtime, HTTPS component
// fetcher, the persisted desired state.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { EgressOptions } from './network/egress.js';
import type { Clock, ClockTimer } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { SKIFF_VERSION } from '../api/version.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import type { ComponentCache } from '../runtime/component-cache.js';
import { Agent } from './agent.js';
import { DEFAULT_MEMORY_LIMIT_BYTES, defaultAllocatableMemory } from './node-info.js';
import { TokenRequestClient } from './credentials/token-request-client.js';
import { ComponentFetcher } from './component-fetcher.js';
import { ensureNodeCredential } from './credentials/node-credential.js';
import { NodeCertificate } from './credentials/node-certificate.js';
import { NodeMesh, type MeshMode } from './network/mesh.js';
import { RelayClient } from './network/relay-client.js';
import { peerLookupClient } from './network/peer-lookup-client.js';
import type { MetricsServerOptions } from './metrics-server.js';
import { MqttAgentChannel } from './mqtt-agent-channel.js';
import type { BackoffOptions } from './mqtt-reconnect-backoff.js';
import { DesiredStateFile } from './state/desired-state-file.js';

/**
 * Started guest workers kept ready while the node has pods: a container start takes one instead of
 * paying ~20-40 ms for a fresh worker, and a worker whose guest exited cleanly is reused. Each
 * costs ~12 MB, so an agent without pods keeps none (and stays well under 60 MB of RSS).
 */
export const AGENT_WARM_WORKERS = 1;
/** How long warm workers outlive the node's last pod: a node running one Job pod after another keeps them. */
export const WARM_WORKERS_LINGER_MS = 60_000;

export interface StartAgentOptions {
  /** mqtt://HOST:PORT or mqtts://HOST:PORT of the broker */
  server: string;
  /**
   * PEM CA an mqtts:// broker's certificate must chain to (skiff's: DATA_DIR/ca.crt of the control
   * plane). Kept in the agent's data dir at the first join (mqtt-ca.crt) and used on later starts
   * that give none.
   */
  mqttCa?: string;
  /** Accept a plain mqtt:// server (credentials and Secrets in clear): lab brokers on loopback only. */
  insecureMqtt?: boolean;
  /** The cluster's bootstrap token: exchanged once for this node's own credential (kept in dataDir). */
  token: string;
  /**
   * Transpiler and component caches shared by the agents of one process (`skiff up --agents N`):
   * each agent still fetches a component with its own credential before it gets it from there.
   */
  componentCache?: ComponentCache;
  name: string;
  dataDir: string;
  logger: Logger;
  labels?: Record<string, string>;
  nodeIP?: string;
  /** Where hostPorts listen when a port names no hostIP (default: nodeIP, else 127.0.0.1). */
  hostPortAddress?: string;
  clock?: Clock;
  /** Idle guest workers kept started while the node has pods (default AGENT_WARM_WORKERS; none without pods). */
  warmWorkers?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  keepaliveSeconds?: number;
  backoff?: BackoffOptions;
  /** Measured (about 0.3 s of spinning) when first needed: a metered container, or the node's first pods. */
  fuelPerSecond?: number;
  /** Called when the node goes from no pods to some (true) and back (false). */
  onPodsDesired?: (hasPods: boolean) => void;
  /** hostPath volumes are allowed only under these prefixes. */
  allowedHostPaths?: string[];
  /**
   * Egress out of the cluster (network/egress.ts): `allow` the CIDRs pods may reach without a
   * NetworkPolicy saying so (--allow-egress; none by default), `lookup` the resolver of outside
   * names (default: the agent's).
   */
  egress?: EgressOptions;
  /** How often container usage is reported (default 15 s). */
  metricsIntervalMs?: number;
  /** How often emptyDirs are measured against their sizeLimit (default 10 s). */
  sizeLimitCheckIntervalMs?: number;
  /** Memory limit of a container that sets none (default DEFAULT_MEMORY_LIMIT_BYTES, 256 MiB). */
  defaultMemoryLimitBytes?: number;
  /**
   * What the node's pods may request and their linear memories hold together (default: the
   * device's memory less a reserve, defaultAllocatableMemory()).
   */
  allocatableMemoryBytes?: number;
  /** A local Prometheus listener (off by default: the API server proxies /metrics over MQTT). */
  metricsServer?: MetricsServerOptions;
  /**
   * The port of this node's tunnel on nodeIP (pods of other nodes reach this node's pods through it;
   * 0: any free port). Absent: no tunnel, and no traffic between nodes.
   */
  tunnelPort?: number;
  /** How requests reach other nodes' pods: auto (direct, relay when unreachable), direct, relay. */
  meshMode?: MeshMode;
  /** Serve skiff's Ingresses on nodeIP (--ingress-port, --ingress-tls-port; 0: any free port; decision 075). */
  ingress?: { port?: number; tlsPort?: number };
}

/** A plain mqtt:// server without insecureMqtt (--insecure-mqtt). */
export class InsecureMqttError extends Error {
  override readonly name = 'InsecureMqttError';
}

export async function startAgent(options: StartAgentOptions): Promise<Agent> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ node: options.name });
  if (new URL(options.server).protocol !== 'mqtts:' && !options.insecureMqtt) {
    throw new InsecureMqttError(`refusing the plain MQTT server ${options.server}: this node's credential and its pods' Secrets would cross the network in clear. ` +
      'Use mqtts://HOST:PORT with --ca-file (the control plane\'s DATA_DIR/ca.crt), or pass --insecure-mqtt for a broker on a trusted link');
  }
  if (options.insecureMqtt && !options.server.startsWith('mqtts:')) logger.warn({ server: options.server }, 'plain MQTT (--insecure-mqtt): credentials and Secrets travel in clear');
  const caPath = join(options.dataDir, 'mqtt-ca.crt');
  const mqttCa = options.mqttCa ?? await readFile(caPath, 'utf8').catch(() => undefined);
  const stateFile = new DesiredStateFile(join(options.dataDir, 'desired-state.json'));
  // Stored after the first join, so a restart while the control plane is away needs no exchange
  // (and persisted pods, which only an authenticated session can have delivered, run at once).
  const credential = await ensureNodeCredential({
    server: options.server, node: options.name, bootstrapToken: options.token, dataDir: options.dataDir, logger, ca: mqttCa,
  });
  if (options.mqttCa) await keepMqttCa(caPath, options.mqttCa);
  const fuelPerSecond = options.fuelPerSecond;
  const allocatableMemoryBytes = options.allocatableMemoryBytes ?? defaultAllocatableMemory();
  const defaultMemoryLimitBytes = options.defaultMemoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
  const channel = new MqttAgentChannel({
    url: options.server,
    ca: mqttCa,
    node: options.name,
    token: credential,
    bootId: randomUUID(),
    agentVersion: SKIFF_VERSION,
    clock,
    logger,
    ...(options.keepaliveSeconds ? { keepaliveSeconds: options.keepaliveSeconds } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  const runtime = new WasmPodRuntime({
    cacheDir: join(options.dataDir, 'components'),
    ...(fuelPerSecond ? { fuelPerSecond } : {}),
    warmWorkers: 0,
    memoryCeilingBytes: allocatableMemoryBytes,
    ...(options.componentCache ? { componentCache: options.componentCache } : {}),
  });
  const warmWorkers = options.warmWorkers ?? AGENT_WARM_WORKERS;
  let cooling: ClockTimer | undefined;
  const fetcher = new ComponentFetcher({ cacheDir: join(options.dataDir, 'blobs'), token: credential });
  const nodeIP = options.nodeIP ?? '127.0.0.1';
  const mesh = options.tunnelPort === undefined ? undefined : new NodeMesh({
    certificate: new NodeCertificate({
      node: options.name, token: credential, dataDir: options.dataDir, ips: [nodeIP],
      onError: (e) => logger.warn({ err: e.message }, 'could not renew this node\'s certificate'),
    }),
    host: nodeIP,
    port: options.tunnelPort,
    relay: (api) => new RelayClient(credential, api),
    peerLookup: { self: options.name, client: (api) => peerLookupClient(credential, api) },
    ...(options.meshMode ? { mode: options.meshMode } : {}),
    onError: (what, e) => logger.warn({ err: e.message }, `${what} failed`),
  });
  const serviceAccountTokens = new TokenRequestClient({ credential });
  const agent = new Agent({
    node: options.name,
    channel,
    runtime,
    fetcher,
    clock,
    logger,
    stateFile,
    serviceAccountTokens,
    ...(fuelPerSecond ? { fuelPerSecond } : {}),
    dataDir: options.dataDir,
    allocatableMemoryBytes,
    defaultMemoryLimitBytes,
    onPodsDesired: (hasPods) => {
      cooling?.cancel();
      cooling = undefined;
      if (hasPods) runtime.setWarmWorkers(warmWorkers);
      else cooling = clock.setTimeout(() => runtime.setWarmWorkers(0), WARM_WORKERS_LINGER_MS);
      options.onPodsDesired?.(hasPods);
    },
    ...(options.allowedHostPaths ? { allowedHostPaths: options.allowedHostPaths } : {}),
    ...(options.egress ? { egress: options.egress } : {}),
    ...(options.metricsIntervalMs ? { metricsIntervalMs: options.metricsIntervalMs } : {}),
    ...(options.sizeLimitCheckIntervalMs ? { sizeLimitCheckIntervalMs: options.sizeLimitCheckIntervalMs } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.metricsServer ? { metricsServer: options.metricsServer } : {}),
    ...(options.nodeIP ? { nodeIP: options.nodeIP } : {}),
    ...(options.hostPortAddress ? { hostPortAddress: options.hostPortAddress } : {}),
    ...(options.leaseRenewIntervalMs ? { leaseRenewIntervalMs: options.leaseRenewIntervalMs } : {}),
    ...(options.leaseDurationSeconds ? { leaseDurationSeconds: options.leaseDurationSeconds } : {}),
    ...(mesh ? { mesh } : {}),
    ...(options.ingress ? { ingress: options.ingress } : {}),
  });
  try {
    await agent.start();
  } catch (error) {
    await runtime.close();
    fetcher.close();
    serviceAccountTokens.close();
    throw error;
  }
  return agent;
}

/** The broker's CA given at join, kept (0600) so a restart without --ca-file still verifies the broker. */
async function keepMqttCa(path: string, pem: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === pem) return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, pem, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
