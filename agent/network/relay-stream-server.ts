// The `tcp` call (api/mqtt/relay.ts, decision 038): a raw TCP connection from a pod of another node
// that could not reach this node's tunnel, passed on by the control plane. The same checks as the
// tunnel's: only pods of this node, ingress NetworkPolicies against the source pod when it is in the
// calling node's pod CIDR (NodeNetwork.acceptFromPeer). A refusal is the call's result before `open`.
import * as v from 'valibot';
import { connectionReset } from '../../api/net/framed-stream.js';
import { joinMessages } from '../../api/net/message-stream.js';
import { relayStreamParams } from '../../api/mqtt/relay.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { RpcReply } from '../agent-channel.js';
import type { NodeNetwork } from './node-network.js';

export function serveRelayStream(network: NodeNetwork, params: Record<string, unknown>, reply: RpcReply): void {
  const parsed = v.safeParse(relayStreamParams, params);
  if (!parsed.success) return reply.error(400, `invalid tcp relay request: ${v.getDotPath(parsed.issues[0]) ?? ''} ${parsed.issues[0].message}`.trim());
  const { podIP, port, source, from, listenerOnly } = parsed.output;
  let stream;
  try {
    stream = network.acceptFromPeer(from, source, podIP, port, { listenerOnly: listenerOnly === true });
  } catch (error) {
    const code = error instanceof PodNetworkError ? error.code : 'internal-error';
    return reply.done({ error: { code, message: ((error as Error)?.message ?? String(error)).slice(0, 2000) } });
  }
  const opened = stream;
  reply.data({ open: true });
  const end = joinMessages(opened, (message) => reply.data(message), (reset) => reply.done(reset ? { reset: true } : {}));
  reply.onInput((message) => end.receive(message));
  reply.signal.addEventListener('abort', () => opened.destroy(connectionReset()), { once: true });
}
