// The `relay` call (api/mqtt/relay.ts): a pod request from a pod of another node that could not
// reach this node's tunnel, passed on by the control plane. Same checks as the tunnel: only pods of
// this node, ingress NetworkPolicies against the source pod when it is in the calling node's pod CIDR.
import * as v from 'valibot';
import { MAX_RELAY_BODY_BYTES, relayRequest, type RelayResult } from '../../api/mqtt/relay.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { RpcReply } from '../agent-channel.js';
import type { NodeNetwork } from './node-network.js';
import { carriedHeader } from './tunnel-protocol.js';

export function serveRelay(network: NodeNetwork, params: Record<string, unknown>, reply: RpcReply): void {
  const parsed = v.safeParse(relayRequest, params);
  if (!parsed.success) return reply.error(400, `invalid relay request: ${v.getDotPath(parsed.issues[0]) ?? ''} ${parsed.issues[0].message}`.trim());
  const from = typeof params['from'] === 'string' ? params['from'] : '';
  const { podIP, port, sourceIP, timeoutMs, request } = parsed.output;
  const fail = (code: string, message: string) => reply.done({ error: { code, message: message.slice(0, 2000) } } satisfies RelayResult);
  network.requestFromPeer(from, sourceIP, podIP, port, {
    ...request,
    headers: request.headers.filter(([name]) => carriedHeader(name.toLowerCase())),
    body: Buffer.from(request.body, 'base64'),
  }, timeoutMs).then((response) => {
    if (response.body.byteLength > MAX_RELAY_BODY_BYTES) return fail('HTTP-response-incomplete', `the response is larger than the ${MAX_RELAY_BODY_BYTES} bytes the relay carries`);
    reply.done({
      response: {
        status: response.status,
        headers: response.headers.filter(([name]) => carriedHeader(name.toLowerCase())),
        body: Buffer.from(response.body).toString('base64'),
      },
    } satisfies RelayResult);
  }, (error: unknown) => {
    fail(error instanceof PodNetworkError ? error.code : 'internal-error', (error as Error)?.message ?? String(error));
  });
}
