// Turns one MQTT message from the control plane into a validated, typed message, or says why it
// is dropped (invalid) or ignored (harmless: a cleared retained message, a request past its deadline).
import {
  cpPresenceMessage, desiredStateMessage, MAX_PAYLOAD_BYTES, rpcRequestMessage, type CpPresenceMessage,
  type DesiredStateMessage, type RpcRequestMessage,
} from '../api/mqtt/messages.js';
import { parseTopic } from '../api/mqtt/topics.js';
import { desiredPartMessage, type DesiredPartMessage } from '../api/mqtt/desired-parts.js';
import { decodePayload } from '../api/mqtt/decode-payload.js';

export type ControlPlaneMessage =
  | { kind: 'desired'; message: DesiredStateMessage }
  | { kind: 'desiredPart'; message: DesiredPartMessage }
  | { kind: 'cpPresence'; message: CpPresenceMessage }
  | { kind: 'rpcRequest'; method: string; message: RpcRequestMessage & { replyTo: string } };

export type DecodedControlPlaneMessage =
  | { ok: true; value: ControlPlaneMessage }
  | { ok: false; reason: string }
  | { ok: 'ignore'; reason: string };

export function decodeControlPlaneMessage(node: string, topic: string, payload: Buffer, nowMs: number): DecodedControlPlaneMessage {
  if (payload.length === 0) return { ok: 'ignore', reason: 'empty payload (retained message cleared)' };
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload of ${payload.length} bytes too large` };
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic) return { ok: false, reason: 'unknown topic' };
  if ('node' in parsedTopic && parsedTopic.node !== node) return { ok: false, reason: 'topic of another node' };
  switch (parsedTopic.kind) {
    case 'desired': {
      const r = decodePayload(desiredStateMessage, payload);
      if (!r.ok) return r;
      if (r.value.node !== node) return { ok: false, reason: `desired state for node ${r.value.node}` };
      return { ok: true, value: { kind: 'desired', message: r.value } };
    }
    case 'desiredPolicies':
    case 'clusterDesired': {
      // a part must be the one its topic names: a Services table on the peers topic is not taken
      const want = parsedTopic.kind === 'desiredPolicies' ? 'policies' : parsedTopic.part;
      const r = decodePayload(desiredPartMessage, payload);
      if (!r.ok) return r;
      if (r.value.part !== want) return { ok: false, reason: `part ${r.value.part} on the ${want} topic` };
      if (r.value.part === 'policies' && r.value.node !== node) return { ok: false, reason: `policies for node ${r.value.node}` };
      return { ok: true, value: { kind: 'desiredPart', message: r.value } };
    }
    case 'cpPresence': {
      const r = decodePayload(cpPresenceMessage, payload);
      return r.ok ? { ok: true, value: { kind: 'cpPresence', message: r.value } } : r;
    }
    case 'rpcRequest': {
      const r = decodePayload(rpcRequestMessage, payload);
      if (!r.ok) return r;
      const { replyTo } = r.value;
      if (replyTo === undefined) return { ok: false, reason: 'rpc request without replyTo' };
      if (r.value.deadline < nowMs) return { ok: 'ignore', reason: `rpc ${r.value.id} past its deadline` };
      return { ok: true, value: { kind: 'rpcRequest', method: parsedTopic.method, message: { ...r.value, replyTo } } };
    }
    default:
      return { ok: false, reason: `unexpected topic kind ${parsedTopic.kind}` };
  }
}
