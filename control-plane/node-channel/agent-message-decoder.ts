// Turns one MQTT message from an agent into a validated, typed message, or says why it is dropped.
// Pure: the channel counts and logs the rejections; nothing here throws on bad input.
import {
  eventMessage, leaseMessage, MAX_PAYLOAD_BYTES, nodeMetricsMessage, nodeStatusMessage, podStatusMessage, presenceMessage,
  rpcResponseMessage, type EventMessage, type LeaseMessage, type NodeMetricsMessage, type NodeStatusMessage,
  type PodStatusMessage, type PresenceMessage, type RpcResponseMessage,
} from '../../api/mqtt/messages.js';
import { parseTopic } from '../../api/mqtt/topics.js';
import { decodePayload } from '../../api/mqtt/decode-payload.js';

export type AgentMessage =
  | { kind: 'presence'; node: string; message: PresenceMessage }
  | { kind: 'status'; node: string; message: NodeStatusMessage }
  | { kind: 'lease'; node: string; message: LeaseMessage }
  | { kind: 'events'; node: string; message: EventMessage }
  | { kind: 'metrics'; node: string; message: NodeMetricsMessage }
  | { kind: 'podStatus'; node: string; message: PodStatusMessage }
  | { kind: 'rpcResponse'; node: string; cpInstance: string; message: RpcResponseMessage };

export type Decoded = { ok: true; value: AgentMessage } | { ok: false; reason: string } | { ok: 'empty' };

/** A payload naming a node must name the topic's node: a misconfigured broker ACL cannot spoof another node. */
const nodeMismatch = (topicNode: string, payload: { node?: string | undefined }) =>
  payload.node !== undefined && payload.node !== topicNode;

export function decodeAgentMessage(topic: string, payload: Buffer): Decoded {
  if (payload.length === 0) return { ok: 'empty' }; // a retained message being cleared
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload of ${payload.length} bytes too large` };
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic) return { ok: false, reason: 'unknown topic' };
  const reject = (reason: string): Decoded => ({ ok: false, reason });
  switch (parsedTopic.kind) {
    case 'presence': {
      const r = decodePayload(presenceMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      return { ok: true, value: { kind: 'presence', node: parsedTopic.node, message: r.value } };
    }
    case 'status': {
      const r = decodePayload(nodeStatusMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      return { ok: true, value: { kind: 'status', node: parsedTopic.node, message: r.value } };
    }
    case 'lease': {
      const r = decodePayload(leaseMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      return { ok: true, value: { kind: 'lease', node: parsedTopic.node, message: r.value } };
    }
    case 'events': {
      const r = decodePayload(eventMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      return { ok: true, value: { kind: 'events', node: parsedTopic.node, message: r.value } };
    }
    case 'metrics': {
      const r = decodePayload(nodeMetricsMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      return { ok: true, value: { kind: 'metrics', node: parsedTopic.node, message: r.value } };
    }
    case 'podStatus': {
      const r = decodePayload(podStatusMessage, payload);
      if (!r.ok) return r;
      if (nodeMismatch(parsedTopic.node, r.value)) return reject('payload node differs from topic node');
      if (r.value.uid !== parsedTopic.uid) return reject('payload uid differs from topic uid');
      return { ok: true, value: { kind: 'podStatus', node: parsedTopic.node, message: r.value } };
    }
    case 'rpcResponse': {
      const r = decodePayload(rpcResponseMessage, payload);
      if (!r.ok) return r;
      return { ok: true, value: { kind: 'rpcResponse', node: parsedTopic.node, cpInstance: parsedTopic.cpInstance, message: r.value } };
    }
    default:
      return reject(`unexpected topic kind ${parsedTopic.kind}`);
  }
}
