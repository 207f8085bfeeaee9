// MQTT over TLS on the embedded broker: mqtts:// with a certificate from the cluster CA; a client that
// verifies against that CA joins, one that does not trust it (or speaks plain MQTT) does not; and a
// capture of the bytes on loopback shows a Secret's value only encrypted.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt } from '../../agent/mqtt-connect.js';
import { topics } from '../../api/mqtt/topics.js';
import { ensureTls } from '../../control-plane/api/tls.js';
import type { Identity } from '../../control-plane/broker/broker-acl.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../control-plane/broker/embedded-broker.js';

const authenticate = (username: string, password: string): Identity | undefined =>
  (username === 'node-1' && password === 'node-1-secret' ? { kind: 'node', node: 'node-1' } : undefined);

/** A loopback TCP relay that keeps every byte both ways (what tshark would see). */
async function recordingRelay(targetPort: number): Promise<{ port: number; bytes: () => Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((down) => {
    const up = createConnection({ host: '127.0.0.1', port: targetPort });
    down.on('data', (b: Buffer) => { chunks.push(b); up.write(b); });
    up.on('data', (b: Buffer) => { chunks.push(b); down.write(b); });
    const end = () => { down.destroy(); up.destroy(); };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, bytes: () => Buffer.concat(chunks), close: () => new Promise<void>((resolve) => { server.close(() => resolve()); }) };
}

/** Resolves 'connected' or the first error (or 'closed' before any CONNACK). */
function outcome(client: MqttClient): Promise<string> {
  return new Promise((resolve) => {
    client.once('connect', () => resolve('connected'));
    client.once('error', (e) => resolve(`error: ${e.message}`));
    client.once('close', () => resolve('closed'));
  });
}

const options = { protocolVersion: 4 as const, clientId: 'node-1', username: 'node-1', password: 'node-1-secret', reconnectPeriod: 0, connectTimeout: 5_000 };

describe('embedded broker over TLS', () => {
  let dir: string;
  let broker: EmbeddedBroker;
  let caCert: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-mqtts-'));
    const tls = await ensureTls(dir, { hosts: [] });
    caCert = tls.caCert;
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, authenticator: authenticate, tls: { key: tls.key, cert: tls.cert } });
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves mqtts:// and admits a client that verifies the cluster CA', async () => {
    expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.port}`);
    const client = connectMqtt(broker.url, { ...options, ca: caCert });
    expect(await outcome(client)).toBe('connected');
    await client.endAsync();
  });

  it('refuses a client that does not trust the CA, and plain MQTT on the TLS port', async () => {
    const untrusting = connectMqtt(broker.url, options);
    expect(await outcome(untrusting)).toMatch(/self[- ]signed|unable to verify|certificate/i);
    untrusting.end(true);
    const plain = connectMqtt(`mqtt://127.0.0.1:${broker.port}`, options);
    expect(await outcome(plain)).not.toBe('connected');
    plain.end(true);
  });

  it('a Secret published over mqtts never crosses loopback in clear', async () => {
    const relay = await recordingRelay(broker.port);
    try {
      // through the relay the host is still 127.0.0.1, which the certificate covers
      const client = connectMqtt(`mqtts://127.0.0.1:${relay.port}`, { ...options, ca: caCert });
      expect(await outcome(client)).toBe('connected');
      const secret = 'pa55word-SECRET-value-0123456789';
      await client.publishAsync(topics.events('node-1'), JSON.stringify({ data: { password: secret } }), { qos: 1 });
      await client.endAsync();
      const seen = relay.bytes();
      expect(seen.length).toBeGreaterThan(500);
      expect(seen.includes(Buffer.from(secret))).toBe(false);
      expect(seen.includes(Buffer.from('node-1-secret'))).toBe(false);
    } finally {
      await relay.close();
    }
  });
});
