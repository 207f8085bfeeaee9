// Wires one agent from concrete parts: node credential, MQTT channel, Wasm runtime, HTTPS component
// fetcher, the persisted desired state.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { SKIFF_VERSION } from '../api/version.js';
import { measureFuelPerSecond } from '../runtime/limits/fuel-calibration.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { Agent } from './agent.js';
import { ComponentFetcher } from './component-fetcher.js';
import { ensureNodeCredential } from './credentials/node-credential.js';
import { MqttAgentChannel } from './mqtt-agent-channel.js';
import type { BackoffOptions } from './mqtt-reconnect-backoff.js';
import { DesiredStateFile } from './state/desired-state-file.js';

/**
 * An idle agent keeps no started guest worker: a start then pays ~20-40 ms for a fresh worker,
 * which keeps an idle agent within 60 MB of RSS. `--warm-workers N` trades memory for start latency.
 */
export const AGENT_WARM_WORKERS = 0;

export interface StartAgentOptions {
  /** mqtt://HOST:PORT of the broker */
  server: string;
  /** The cluster's bootstrap token: exchanged once for this node's own credential (kept in dataDir). */
  token: string;
  name: string;
  dataDir: string;
  logger: Logger;
  labels?: Record<string, string>;
  nodeIP?: string;
  clock?: Clock;
  /** Idle guest workers kept started (default 0: each costs ~12 MB of RSS on a small device). */
  warmWorkers?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  keepaliveSeconds?: number;
  backoff?: BackoffOptions;
  /** Measured at start when absent (about 100 ms of spinning). */
  fuelPerSecond?: number;
  /** hostPath volumes are allowed only under these prefixes. */
  allowedHostPaths?: string[];
  /** How often container usage is reported (default 15 s). */
  metricsIntervalMs?: number;
}

export async function startAgent(options: StartAgentOptions): Promise<Agent> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ node: options.name });
  const stateFile = new DesiredStateFile(join(options.dataDir, 'desired-state.json'));
  // Stored after the first join, so a restart while the control plane is away needs no exchange
  // (and persisted pods, which only an authenticated session can have delivered, run at once).
  const credential = await ensureNodeCredential({
    server: options.server, node: options.name, bootstrapToken: options.token, dataDir: options.dataDir, logger,
  });
  const fuelPerSecond = options.fuelPerSecond ?? measureFuelPerSecond();
  const channel = new MqttAgentChannel({
    url: options.server,
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
    fuelPerSecond,
    warmWorkers: options.warmWorkers ?? AGENT_WARM_WORKERS,
  });
  const fetcher = new ComponentFetcher({ cacheDir: join(options.dataDir, 'blobs'), token: credential });
  const agent = new Agent({
    node: options.name,
    channel,
    runtime,
    fetcher,
    clock,
    logger,
    stateFile,
    fuelPerSecond,
    dataDir: options.dataDir,
    ...(options.allowedHostPaths ? { allowedHostPaths: options.allowedHostPaths } : {}),
    ...(options.metricsIntervalMs ? { metricsIntervalMs: options.metricsIntervalMs } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.nodeIP ? { nodeIP: options.nodeIP } : {}),
    ...(options.leaseRenewIntervalMs ? { leaseRenewIntervalMs: options.leaseRenewIntervalMs } : {}),
    ...(options.leaseDurationSeconds ? { leaseDurationSeconds: options.leaseDurationSeconds } : {}),
  });
  try {
    await agent.start();
  } catch (error) {
    await runtime.close();
    fetcher.close();
    throw error;
  }
  return agent;
}
