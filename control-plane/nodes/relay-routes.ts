// The relay through the control plane (api/mqtt/relay.ts): POST /skiff/v1/relay/NODE from a node
// (authorizer: nodes only) with one pod request for a pod IP of NODE; sent on to NODE as a `relay`
// call over the node channel, with the calling node's name (NODE trusts the source pod IP only
// inside the caller's pod CIDR). Answers 200 with the relay result, 422 with field causes for a
// bad request, 404 for an unknown node, 403 for a pod IP outside its pod CIDR, 503 when the node
// does not answer.
import type { Hono } from 'hono';
import * as v from 'valibot';
import { relayRequest } from '../../api/mqtt/relay.js';
import type { Node } from '../../api/types/node.js';
import { NODE_USER_PREFIX } from '../api/authorization/node-authorizer.js';
import { NodeCallError, type NodeChannel } from '../node-channel/node-channel.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { inPodCidr } from './desired-peers.js';

/** Largest relay request body (bytes of JSON). */
const MAX_RELAY_JSON_BYTES = 256 * 1024;

export function mountRelayRoutes(app: Hono, resources: ResourceStore, channel: () => NodeChannel | undefined): void {
  app.post('/skiff/v1/relay/:node', async (c) => {
    const node = c.req.param('node');
    const invalid = (field: string, message: string) => c.json({ error: message, causes: [{ field, message }] }, 422);
    const text = await c.req.text();
    if (text.length > MAX_RELAY_JSON_BYTES) return invalid('body', `the request is larger than ${MAX_RELAY_JSON_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return invalid('body', 'the request is not JSON');
    }
    const parsed = v.safeParse(relayRequest, json);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      return invalid(v.getDotPath(issue) ?? 'body', issue.message);
    }
    const target = await resources.get<Node>(resourceTypes.nodes, undefined, node).catch(() => undefined);
    if (!target) return c.json({ error: `node ${JSON.stringify(node.slice(0, 100))} not found` }, 404);
    if (!inPodCidr(parsed.output.podIP, target.spec?.podCIDR)) return c.json({ error: `${parsed.output.podIP} is no pod IP of node ${node}` }, 403);
    const nodes = channel();
    if (!nodes) return c.json({ error: 'the node channel is starting' }, 503);
    const user = (c.get('user' as never) as { name?: string } | undefined)?.name ?? '';
    const from = user.startsWith(NODE_USER_PREFIX) ? user.slice(NODE_USER_PREFIX.length) : '';
    try {
      const result = await nodes.call(node, 'relay', { ...parsed.output, from }, { timeoutMs: parsed.output.timeoutMs + 2_000 });
      return c.json(result as object, 200);
    } catch (error) {
      const message = error instanceof NodeCallError ? error.message : (error as Error).message;
      return c.json({ error: { code: 'destination-unavailable', message: `node ${node}: ${message}` } }, 200);
    }
  });
}
