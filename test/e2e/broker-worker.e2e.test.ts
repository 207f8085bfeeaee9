// The control plane with its embedded broker on a worker thread (decision 069): node credentials
// issued and revoked on the main thread reach the worker before issue()/revoke() return; a broker
// thread that dies is restarted and the control plane's node channel and the agents reconnect; stop
// leaves no thread behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import { BOOTSTRAP_MQTT_USER } from '../../api/mqtt/node-credential.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { connectRaw } from '../mqtt/raw-mqtt-client.js';
import { RecordingAgentHandlers } from '../mqtt/recording-handlers.js';
import { waitFor } from '../mqtt/wait-for.js';

describe('control plane with the broker on a worker thread', () => {
  let dir: string;
  let cp: RunningControlPlane;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-brokerworker-'));
    cp = await startControlPlane({ dataDir: dir, logger: pino({ level: 'silent' }), apiPort: 0, mqtt: { host: '127.0.0.1', port: 0 } });
  }, 60_000);
  afterAll(async () => {
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets a node in with the credential just issued, and refuses it once revoked', async () => {
    const credential = await cp.nodeCredentials.issue('node-r');
    const client = await connectRaw({ url: cp.mqttUrl, username: 'node-r', password: credential });
    await client.endAsync(true);
    expect(await cp.nodeCredentials.revoke('node-r')).toBe(true);
    await expect(connectRaw({ url: cp.mqttUrl, username: 'node-r', password: credential })).rejects.toMatchObject({ code: 4 });
    await expect(connectRaw({ url: cp.mqttUrl, username: BOOTSTRAP_MQTT_USER, password: 'wrong' })).rejects.toMatchObject({ code: 4 });
    const bootstrap = await connectRaw({ url: cp.mqttUrl, username: BOOTSTRAP_MQTT_USER, password: cp.nodeToken });
    await bootstrap.endAsync(true);
  });

  it('restarts a broker thread that dies: the agent and the node channel come back', async () => {
    const credential = await cp.nodeCredentials.issue('node-s');
    const agent = new MqttAgentChannel({ url: cp.mqttUrl, node: 'node-s', token: credential, agentVersion: 't', backoff: { initialMs: 50, maxMs: 200 } });
    const handlers = new RecordingAgentHandlers();
    try {
      await agent.connect(handlers);
      // the control plane's presence (online) reaches the agent over the broker
      await waitFor('cp presence', () => handlers.cpPresences.some((p) => p.online), { timeoutMs: 10_000 });
      const presences = handlers.cpPresences.length;
      await cp.broker!.kill();
      await waitFor('agent reconnected', () => handlers.connects >= 2, { timeoutMs: 20_000 });
      // the node channel reconnected too: it announces itself again after every connect
      await waitFor('cp presence after the restart', () => handlers.cpPresences.slice(presences).some((p) => p.online), { timeoutMs: 20_000 });
      expect(cp.broker!.restarts).toBe(1);
    } finally {
      await agent.close();
    }
  }, 60_000);
});
