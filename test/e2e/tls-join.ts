// What the e2e tests of an agent joining over mqtts:// share: a control plane whose embedded broker
// speaks mqtts:// (in a temporary directory), an agent started with the test defaults (no warm
// workers, a short keepalive and backoff), and a wait for a node to turn Ready.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/main.js';
import type { Node } from '../../api/types/node.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { resourceTypes } from '../../control-plane/resources/resource-types.js';

export const testLogger = pino({ level: 'warn' });

export interface TlsControlPlane {
  dir: string;
  cp: RunningControlPlane;
  stop(): Promise<void>;
}

/** A control plane over mqtts:// in a new temporary directory (`prefix` names it); `stop` removes it. */
export async function startTlsControlPlane(prefix: string): Promise<TlsControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const cp = await startControlPlane({ dataDir: join(dir, 'cp'), logger: testLogger, apiPort: 0, mqtt: { host: '127.0.0.1', port: 0, tls: true } });
  return { dir, cp, stop: async () => { await cp.stop(); await rm(dir, { recursive: true, force: true }); } };
}

/** An agent joining `cp` as `name` with the tests' defaults; `withCa: false` leaves out --ca-file. */
export function startTestAgent(cp: RunningControlPlane, name: string, dataDir: string, withCa = true): Promise<Agent> {
  return startAgent({
    server: cp.mqttUrl, ...(withCa ? { mqttCa: cp.caCert } : {}), token: cp.nodeToken, name, dataDir, logger: testLogger,
    warmWorkers: 0, keepaliveSeconds: 2, backoff: { initialMs: 100, maxMs: 1000 }, fuelPerSecond: 1e9,
  });
}

/** Waits (polling, with a deadline) until node `name` reports Ready=True. */
export async function untilNodeReady(cp: RunningControlPlane, name: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const node = await cp.resources.get<Node>(resourceTypes.nodes, undefined, name).catch(() => undefined);
    if (node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True') return;
    if (Date.now() > deadline) throw new Error(`node ${name} never turned Ready over mqtts`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
