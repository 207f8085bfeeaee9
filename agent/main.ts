// Wires one agent from concrete parts: MQTT channel, Wasm runtime, HTTPS component fetcher.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { SKIFF_VERSION } from '../api/version.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { Agent } from './agent.js';
import { ComponentFetcher } from './component-fetcher.js';
import { MqttAgentChannel } from './mqtt-agent-channel.js';

export interface StartAgentOptions {
  /** mqtt://HOST:PORT of the broker */
  server: string;
  token: string;
  name: string;
  dataDir: string;
  logger: Logger;
  labels?: Record<string, string>;
  nodeIP?: string;
  clock?: Clock;
  warmWorkers?: number;
  leaseRenewIntervalMs?: number;
  keepaliveSeconds?: number;
}

export async function startAgent(options: StartAgentOptions): Promise<Agent> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ node: options.name });
  const channel = new MqttAgentChannel({
    url: options.server,
    node: options.name,
    token: options.token,
    bootId: randomUUID(),
    agentVersion: SKIFF_VERSION,
    clock,
    logger,
    ...(options.keepaliveSeconds ? { keepaliveSeconds: options.keepaliveSeconds } : {}),
  });
  const runtime = new WasmPodRuntime({
    cacheDir: join(options.dataDir, 'components'),
    ...(options.warmWorkers !== undefined ? { warmWorkers: options.warmWorkers } : {}),
  });
  const fetcher = new ComponentFetcher({ cacheDir: join(options.dataDir, 'blobs'), token: options.token });
  const agent = new Agent({
    node: options.name,
    channel,
    runtime,
    fetcher,
    clock,
    logger,
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.nodeIP ? { nodeIP: options.nodeIP } : {}),
    ...(options.leaseRenewIntervalMs ? { leaseRenewIntervalMs: options.leaseRenewIntervalMs } : {}),
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
