// Opens an MQTT.js client over plain TCP (mqtt://) or TLS (mqtts://) without MQTT.js's `connect`,
// whose protocol table also loads its WebSocket, SOCKS and browser transports (~1.5 MB of heap the
// agent never uses), and without mqtt-packet's number cache.
import { createRequire } from 'node:module';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';

// Required by path: MQTT.js's typings map every subpath to its index, so only the type comes from there.
const require = createRequire(import.meta.url);
const { default: MqttClientClass } = require('mqtt/lib/client') as { default: typeof MqttClient };
const { ErrorWithSubackPacket } = require('mqtt/lib/shared') as typeof import('mqtt');
export { ErrorWithSubackPacket };

export class UnsupportedMqttUrlError extends Error {
  override readonly name = 'UnsupportedMqttUrlError';
}

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883 };

export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const parsed = new URL(url);
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (defaultPort === undefined) throw new UnsupportedMqttUrlError(`unsupported broker URL ${url}: use mqtt:// or mqtts://`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  const secure = parsed.protocol === 'mqtts:';
  const client = new MqttClientClass(
    // mqtts: the broker's certificate is verified (against `options.ca` when given: the cluster CA)
    // for `host`, an IP SAN for an IP; SNI carries host names only (RFC 6066; DEP0123 otherwise)
    () => (secure ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(options.ca ? { ca: options.ca } : {}) }) : netConnect({ host, port })),
    // writeCache off: mqtt-packet would otherwise pre-build 65,536 two-byte Buffers (~6 MB of heap)
    // to save one small allocation per packet, a poor trade at a few packets a second
    { writeCache: false, ...options, protocol: secure ? 'mqtts' : 'mqtt', host, hostname: host, port },
  );
  // as MQTT.js's connect does: errors are also reported through events the callers listen to
  client.on('error', () => undefined);
  return client;
}
