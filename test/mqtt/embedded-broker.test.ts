// The embedded broker: the shared node channel suite (over the broker as the control plane runs it,
// in a worker thread), plus what only aedes hooks decide.
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import { topics } from '../../api/mqtt/topics.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../control-plane/broker/embedded-broker.js';
import { MAX_CLIENT_KEEPALIVE_SECONDS, type Identity } from '../../control-plane/broker/broker-acl.js';
import { startWorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { CONTROL_PLANE_USERS, describeNodeChannelOverBroker, NODE_TOKENS, testCredentials, type TestBroker } from './node-channel.contract.js';
import { connectRaw, publishSettled } from './raw-mqtt-client.js';
import { RecordingAgentHandlers } from './recording-handlers.js';
import { waitFor } from './wait-for.js';

function authenticate(username: string, password: string): Identity | undefined {
  if ((CONTROL_PLANE_USERS as Record<string, string>)[username] === password) return { kind: 'control-plane' };
  if (NODE_TOKENS[username] === password) return { kind: 'node', node: username };
  return undefined;
}

const startOnPort = (port: number) => startEmbeddedBroker({ host: '127.0.0.1', port, authenticator: authenticate });

async function startTestBroker(): Promise<TestBroker> {
  const broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials() });
  return { url: broker.url, port: broker.port, restart: () => broker.restart(), close: () => broker.close() };
}

describeNodeChannelOverBroker('the embedded broker in a worker thread', startTestBroker, { refusesForbiddenSubscriptions: true, keepaliveScanPeriodMs: 0 });

describe('embedded broker', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => { broker = await startOnPort(0); });
  afterAll(async () => { await broker?.close(); });
  const node = (name: string, clientId = name) => connectRaw({ url: broker.url, username: name, password: NODE_TOKENS[name]!, clientId });

  it('keeps an agent retrying with backoff while the broker refuses it, until it is let in', async () => {
    let isAllowed = false;
    let attempts = 0;
    const gated = await startEmbeddedBroker({
      host: '127.0.0.1', port: 0,
      authenticator: (username, password) => {
        attempts += 1;
        return isAllowed ? authenticate(username, password) : undefined;
      },
    });
    const agent = new MqttAgentChannel({ url: gated.url, node: 'node-a', token: NODE_TOKENS['node-a']!, agentVersion: 't', backoff: { initialMs: 20, maxMs: 100 } });
    const handlers = new RecordingAgentHandlers();
    try {
      const connected = agent.connect(handlers);
      await waitFor('three refused attempts', () => attempts >= 3);
      expect(agent.isConnected).toBe(false);
      isAllowed = true;
      await connected;
      expect(handlers.connects).toBe(1);
    } finally {
      await agent.close();
      await gated.close();
    }
  });

  it('refuses a node whose clientId differs from its name', async () => {
    await expect(node('node-a', 'node-b')).rejects.toMatchObject({ code: 2 });
  });

  it('refuses a node asking for no keepalive or one over the limit, and lets the control plane turn it off', async () => {
    const withKeepalive = (keepalive: number) =>
      connectRaw({ url: broker.url, username: 'node-a', password: NODE_TOKENS['node-a']!, keepalive });
    await expect(withKeepalive(0)).rejects.toMatchObject({ code: 5 });
    await expect(withKeepalive(MAX_CLIENT_KEEPALIVE_SECONDS + 1)).rejects.toMatchObject({ code: 5 });
    const [user, password] = Object.entries(CONTROL_PLANE_USERS)[0]!;
    const controlPlane = await connectRaw({ url: broker.url, username: user, password, keepalive: 0 });
    const agent = await withKeepalive(MAX_CLIENT_KEEPALIVE_SECONDS);
    await Promise.all([controlPlane.endAsync(), agent.endAsync()]);
  });

  it('refuses bad credentials', async () => {
    await expect(connectRaw({ url: broker.url, username: 'node-a', password: 'wrong' })).rejects.toMatchObject({ code: 4 });
  });

  it('refuses a Will aimed at another node presence', async () => {
    const will = { topic: topics.presence('node-b'), payload: Buffer.from('{}'), qos: 1 as const, retain: true };
    await expect(connectRaw({ url: broker.url, username: 'node-a', password: NODE_TOKENS['node-a']!, will })).rejects.toMatchObject({ code: 5 });
  });

  it('drops a node that retains anything but its presence', async () => {
    const client = await node('node-c');
    expect(await publishSettled(client, topics.status('node-c'), '{}', { qos: 1, retain: true })).toBe('closed');
    client.end(true);
  });

  it('cuts a connection that announces a packet above the cap before it arrives, and keeps serving', async () => {
    const socket = connectTcp({ host: '127.0.0.1', port: broker.port });
    let isClosed = false;
    socket.on('close', () => { isClosed = true; });
    socket.on('error', () => {});
    // PUBLISH with a remaining length of 100 MB (varint 0x80 0x80 0xd0 0x2f): only the header is sent.
    socket.write(Buffer.from([0x30, 0x80, 0x80, 0xd0, 0x2f, 0x00]));
    await waitFor('socket closed by the broker', () => isClosed);
    const client = await node('node-d');
    expect(client.connected).toBe(true);
    client.end(true);
  });

  it('survives garbage bytes on a socket', async () => {
    const socket = connectTcp({ host: '127.0.0.1', port: broker.port });
    let isClosed = false;
    socket.on('close', () => { isClosed = true; });
    socket.on('error', () => {});
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await waitFor('socket closed by the broker', () => isClosed);
    const client = await node('node-e');
    expect(client.connected).toBe(true);
    client.end(true);
  });
});
