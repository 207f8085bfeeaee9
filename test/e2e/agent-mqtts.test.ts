// An agent joins a control plane whose embedded broker speaks mqtts:// (the API's certificate from the
// cluster CA): the bootstrap exchange and the node's own session both verify the broker with
// --ca-file (DATA_DIR/ca.crt); without the CA the agent cannot join. The CA given at join is kept:
// a restart without --ca-file still verifies the broker. A plain mqtt:// server is refused unless
// the agent is told --insecure-mqtt.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsecureMqttError, startAgent } from '../../agent/main.js';
import { exchangeBootstrapToken } from '../../agent/credentials/credential-exchange.js';
import type { Agent } from '../../agent/agent.js';
import type { RunningControlPlane } from '../../control-plane/control-plane.js';
import { startTlsControlPlane, startTestAgent, testLogger as logger, untilNodeReady, type TlsControlPlane } from './tls-join.js';

describe('an agent over mqtts://', () => {
  let cluster: TlsControlPlane;
  let dir: string;
  let cp: RunningControlPlane;
  let agent: Agent | undefined;

  beforeAll(async () => {
    cluster = await startTlsControlPlane('skiff-agent-mqtts-');
    ({ dir, cp } = cluster);
  }, 60_000);
  afterAll(async () => {
    await agent?.stop(1000);
    await cluster?.stop();
  });

  it('joins and turns Ready, verifying the broker with the cluster CA', async () => {
    expect(cp.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    agent = await startTestAgent(cp, 'tls-1', join(dir, 'agent'));
    await untilNodeReady(cp, 'tls-1');
  }, 60_000);

  it('keeps the CA it joined with: a restart without one still verifies the broker', async () => {
    const kept = join(dir, 'agent', 'mqtt-ca.crt');
    expect(readFileSync(kept, 'utf8')).toBe(cp.caCert);
    await agent!.stop(1000);
    agent = await startTestAgent(cp, 'tls-1', join(dir, 'agent'), false);
    expect(agent).toBeDefined();
  }, 60_000);

  it('refuses a plain mqtt:// server unless told --insecure-mqtt, saying why', async () => {
    const dataDir = join(dir, 'plain');
    const start = startAgent({ server: 'mqtt://127.0.0.1:1', token: cp.nodeToken, name: 'plain-1', dataDir, logger });
    await expect(start).rejects.toBeInstanceOf(InsecureMqttError);
    await expect(start).rejects.toThrow(/refusing the plain MQTT server mqtt:\/\/127\.0\.0\.1:1: .* in clear\. Use mqtts:\/\/HOST:PORT with --ca-file .* or pass --insecure-mqtt/);
    expect(existsSync(join(dataDir, 'node-credential'))).toBe(false); // refused before any exchange
  });

  it('cannot exchange its bootstrap token without trusting the CA, can with it', async () => {
    // one attempt (the agent retries these with backoff): the TLS handshake fails, nothing is exchanged
    await expect(exchangeBootstrapToken({ server: cp.mqttUrl, node: 'tls-2', bootstrapToken: cp.nodeToken, timeoutMs: 5_000 })).rejects.toThrow();
    await expect(exchangeBootstrapToken({ server: cp.mqttUrl, node: 'tls-2', bootstrapToken: cp.nodeToken, timeoutMs: 5_000, ca: cp.caCert })).resolves.toBeTruthy();
  }, 30_000);
});
