// Node channel metrics: MQTT messages and bytes to and from agents by topic kind (status, lease,
// desired, rpcRequest...), invalid messages dropped, and whether the control plane is connected.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeChannelObserver } from '../node-channel/node-channel.js';

export function createNodeChannelMetrics(registry: Registry): NodeChannelObserver {
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['kind'], registers: [registry] });
  const received = counter('skiff_mqtt_messages_received_total', 'MQTT messages received from agents, by topic kind.');
  const receivedBytes = counter('skiff_mqtt_received_bytes_total', 'Payload bytes received from agents, by topic kind.');
  const sent = counter('skiff_mqtt_messages_sent_total', 'MQTT messages published to agents, by topic kind.');
  const sentBytes = counter('skiff_mqtt_sent_bytes_total', 'Payload bytes published to agents, by topic kind.');
  const dropped = counter('skiff_mqtt_messages_dropped_total', 'Invalid messages from agents dropped (bad payload, unknown topic, node mismatch), by topic kind.');
  const connected = new Gauge({ name: 'skiff_mqtt_connected', help: '1 while the control plane is connected to the broker.', registers: [registry] });
  return {
    received(kind, bytes) {
      received.inc({ kind });
      receivedBytes.inc({ kind }, bytes);
    },
    dropped: (kind) => dropped.inc({ kind }),
    sent(kind, bytes) {
      sent.inc({ kind });
      sentBytes.inc({ kind }, bytes);
    },
    connected: (isConnected) => connected.set(isConnected ? 1 : 0),
  };
}
