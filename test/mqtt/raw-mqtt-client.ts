// A bare MQTT.js client for tests that play an attacker or a hand-written peer.
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';

export class ConnectRefusedError extends Error {
  override readonly name = 'ConnectRefusedError';
  constructor(readonly code: number | undefined, message: string) {
    super(message);
  }
}

export interface RawClientOptions {
  url: string;
  username: string;
  password: string;
  clientId?: string;
  will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
  /** Seconds; 0 asks the broker for no keepalive check. Default 30. */
  keepalive?: number;
}

/** Resolves once connected; rejects with ConnectRefusedError (carrying the CONNACK code) otherwise. */
export function connectRaw(o: RawClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(o.url, {
    protocolVersion: 4, username: o.username, password: o.password, clientId: o.clientId ?? o.username,
    clean: true, reconnectPeriod: 0, keepalive: o.keepalive ?? 30, connectTimeout: 5000, ...(o.will ? { will: o.will } : {}),
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error: Error & { code?: number }) => {
      client.end(true);
      reject(new ConnectRefusedError(typeof error.code === 'number' ? error.code : undefined, error.message));
    });
    client.once('close', () => reject(new ConnectRefusedError(undefined, 'connection closed before CONNACK')));
  });
}

/** Publishes and waits until the broker either acknowledged it or dropped the connection over it. */
export function publishSettled(client: MqttClient, topic: string, payload: string | Buffer, options: IClientPublishOptions = { qos: 1 }): Promise<'acked' | 'closed'> {
  if (!client.connected) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const onClose = () => resolve('closed');
    client.once('close', onClose);
    client.publish(topic, payload, options, (error) => {
      client.off('close', onClose);
      resolve(error ? 'closed' : 'acked');
    });
  });
}
