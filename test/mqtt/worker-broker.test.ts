// The embedded broker on its own thread (decision 069): the credential table the main thread keeps
// current, restarts of a dead worker, logs from the worker, and a clean close.
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import type { ChannelLogger } from '../../api/mqtt/channel-logger.js';
import { sha256Hex } from '../../control-plane/broker/credential-table.js';
import { startWorkerBroker, type WorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { topics } from '../../api/mqtt/topics.js';
import { CONTROL_PLANE_USERS, NODE_TOKENS, testCredentials } from './node-channel.contract.js';
import { connectRaw } from './raw-mqtt-client.js';
import { RecordingAgentHandlers } from './recording-handlers.js';
import { waitFor } from './wait-for.js';

class RecordingLogger implements ChannelLogger {
  records: Array<{ level: string; fields: object; message: string }> = [];
  debug(fields: object, message: string) { this.records.push({ level: 'debug', fields, message }); }
  info(fields: object, message: string) { this.records.push({ level: 'info', fields, message }); }
  warn(fields: object, message: string) { this.records.push({ level: 'warn', fields, message }); }
  error(fields: object, message: string) { this.records.push({ level: 'error', fields, message }); }
}

describe('embedded broker in a worker thread', () => {
  let broker: WorkerBroker;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials(), logger, restartDelayMs: { initial: 10, max: 100 } });
  });
  afterAll(async () => { await broker?.close(); });
  const connectAs = (username: string, password: string) => connectRaw({ url: broker.url, username, password });

  it('refuses a credential once its revocation is acknowledged, and takes a rotated one', async () => {
    const first = await connectAs('node-f', NODE_TOKENS['node-f']!);
    await first.endAsync(true);
    await broker.update([{ remove: 'node-f' }]);
    await expect(connectAs('node-f', NODE_TOKENS['node-f']!)).rejects.toMatchObject({ code: 4 });
    await broker.update([{ set: { username: 'node-f', sha256: sha256Hex('rotated'), identity: { kind: 'node', node: 'node-f' } } }]);
    await expect(connectAs('node-f', NODE_TOKENS['node-f']!)).rejects.toMatchObject({ code: 4 });
    const rotated = await connectAs('node-f', 'rotated');
    await rotated.endAsync(true);
  });

  it('counts the time its thread was busy, growing with its work', async () => {
    const before = broker.busyMs();
    expect(before).toBeGreaterThan(0); // it started aedes
    for (const node of ['node-l', 'node-m', 'node-n']) await (await connectAs(node, NODE_TOKENS[node]!)).endAsync(true);
    expect(broker.busyMs()).toBeGreaterThan(before);
  });

  it("reports its own thread's memory: the retained payloads it holds", async () => {
    const before = (await broker.memory())!;
    expect(before.heapUsedBytes).toBeGreaterThan(0);
    const cp = await connectAs('control-plane', CONTROL_PLANE_USERS['control-plane']);
    // 20 retained desired states of 200 KB: the broker keeps them (4 MB) in its worker's ArrayBuffers
    for (let i = 0; i < 20; i++) await cp.publishAsync(topics.desired(`mem-node-${i}`), Buffer.alloc(200_000, i + 1), { qos: 1, retain: true });
    await cp.endAsync();
    const after = (await broker.memory())!;
    expect(after.arrayBuffersBytes - before.arrayBuffersBytes).toBeGreaterThan(3_000_000);
    expect(after.externalBytes).toBeGreaterThanOrEqual(after.arrayBuffersBytes);
  });

  it('rejects a malformed credential change and keeps serving', async () => {
    await expect(broker.update([{ set: { username: 'node-g', sha256: 'not-a-hash', identity: { kind: 'node', node: 'node-g' } } }])).rejects.toThrow(/SHA-256/);
    const client = await connectAs('node-g', NODE_TOKENS['node-g']!);
    await client.endAsync(true);
  });

  it('drops a malformed packet in the worker and logs it on the main thread', async () => {
    const socket = connectTcp({ host: '127.0.0.1', port: broker.port });
    let isClosed = false;
    socket.on('close', () => { isClosed = true; });
    socket.on('error', () => {});
    socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])); // remaining length longer than 4 bytes
    await waitFor('socket closed by the broker', () => isClosed);
    await waitFor('the drop logged', () => logger.records.find((r) => r.level === 'warn' && r.message === 'mqtt connection dropped'));
  });

  it('restarts a worker that dies, on the same port, with every credential change made before', async () => {
    const agent = new MqttAgentChannel({ url: broker.url, node: 'node-h', token: NODE_TOKENS['node-h']!, agentVersion: 't', backoff: { initialMs: 20, maxMs: 100 } });
    const handlers = new RecordingAgentHandlers();
    try {
      await agent.connect(handlers);
      await broker.update([{ remove: 'node-i' }, { set: { username: 'node-j', sha256: sha256Hex('new-j'), identity: { kind: 'node', node: 'node-j' } } }]);
      const port = broker.port;
      await broker.kill();
      await waitFor('the agent reconnected to the restarted worker', () => handlers.connects >= 2, { timeoutMs: 10_000 });
      expect(broker.restarts).toBe(1);
      expect(broker.port).toBe(port);
      expect(logger.records.some((r) => r.level === 'error' && /worker died/.test(r.message))).toBe(true);
      await expect(connectAs('node-i', NODE_TOKENS['node-i']!)).rejects.toMatchObject({ code: 4 });
      await expect(connectAs('node-j', NODE_TOKENS['node-j']!)).rejects.toMatchObject({ code: 4 });
      const j = await connectAs('node-j', 'new-j');
      await j.endAsync(true);
    } finally {
      await agent.close();
    }
  });

  it('closes: its port refuses connections and the thread is gone', async () => {
    const other = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials() });
    const client = await connectRaw({ url: other.url, username: 'node-k', password: NODE_TOKENS['node-k']! });
    let isClosed = false;
    client.on('close', () => { isClosed = true; });
    await other.close();
    await waitFor('the client saw the broker go', () => isClosed);
    client.end(true);
    await expect(new Promise((resolve, reject) => {
      const socket = connectTcp({ host: '127.0.0.1', port: other.port });
      socket.on('connect', () => { socket.destroy(); resolve('connected'); });
      socket.on('error', reject);
    })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(other.restarts).toBe(0);
  });
});
