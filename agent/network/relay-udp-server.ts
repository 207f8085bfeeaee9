// The `udp` call (api/mqtt/relay.ts, decision 054 "By relay"): datagram frames from the pods of
// another node that could not reach this node's tunnel, passed on by the control plane, each input
// message a batch of whole frames. Every frame is judged as the tunnel's are (NodeUdp.fromPeer:
// the source a pod of the calling node, the destination a pod of this node, ingress policies, the
// socket's queue). A malformed batch is dropped and counted (the control plane re-encodes what it
// passes on, so it would be a bug or a hostile control plane); the call runs until the control plane aborts it.
import * as v from 'valibot';
import { relayUdpMessage, relayUdpParams } from '../../api/mqtt/relay.js';
import { FrameReader } from '../../api/net/udp-frames.js';
import type { RpcReply } from '../agent-channel.js';
import type { NodeUdp } from './node-udp.js';

/** Batches of a `udp` call that could not be read (tests). */
export const relayUdpCounts = { malformed: 0 };

export function serveRelayUdp(udp: Pick<NodeUdp, 'fromPeer'>, params: Record<string, unknown>, reply: RpcReply): void {
  const parsed = v.safeParse(relayUdpParams, params);
  if (!parsed.success) return reply.error(400, `invalid udp relay request: ${v.getDotPath(parsed.issues[0]) ?? ''} ${parsed.issues[0].message}`.trim());
  const { from } = parsed.output;
  reply.data({ open: true });
  reply.onInput((message) => {
    if (!v.is(relayUdpMessage, message)) {
      relayUdpCounts.malformed++;
      return;
    }
    const reader = new FrameReader(); // a batch holds whole frames: nothing carries over
    for (const frame of reader.push(Buffer.from(message.frames, 'base64'))) udp.fromPeer(from, frame);
    if (reader.broken || reader.buffered > 0) relayUdpCounts.malformed++;
  });
}
