// Raw TCP by relay through the control plane (api/mqtt/relay.ts, decision 038): an upgraded
// `POST /skiff/v1/relay/NODE/tcp` from a node (authorizer: nodes only) for a pod IP of NODE. The
// source address must be a pod of the calling node (its pod CIDR) or the node's InternalIP (a
// NodePort client, SNATed): a node opens connections only from its own pods and itself. A `tcp` call to NODE over the node channel opens the pod's end; once NODE
// says `open`, 101 and frames from here on (api/net/framed-stream.ts) joined to the call's
// messages (api/net/message-stream.ts). Refusals: 422 (bad headers), 403, 404 (unknown node),
// 429 (the calling node has MAX_RELAYED_STREAMS_PER_NODE open: one node cannot take every relay
// slot of the control plane), 503, or 200 with {error: {code, message}} when NODE refused (no
// listener, policy).
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';
import * as v from 'valibot';
import { RELAY_STREAM_MAX_MS, relayStreamMessage } from '../../api/mqtt/relay.js';
import { FramedStream } from '../../api/net/framed-stream.js';
import { joinMessages, type MessageStreamEnd } from '../../api/net/message-stream.js';
import type { Node } from '../../api/types/node.js';
import { NODE_USER_PREFIX } from '../../api/node-identity.js';
import type { NodeChannel } from '../node-channel/node-channel.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { inPodCidr } from './desired-peers.js';

/** The upgrade the API server hands the app (control-plane/api/upgrade-requests.ts), as far as used here. */
interface Upgrade {
  socket: Duplex;
  head: Buffer;
  accepted: boolean;
}
const upgradeContext = (c: Context): Upgrade | undefined => (c.env as { upgrade?: Upgrade } | undefined)?.upgrade;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** `IP:PORT` (port 0-65535 when `zero`, else 1-65535), or undefined. */
export function parseAddress(text: string | undefined, zero = false): { host: string; port: number } | undefined {
  if (typeof text !== 'string' || text.length > 21) return undefined;
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (colon < 0 || !IPV4.test(host) || !/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 && (zero || port >= 1) ? { host, port } : undefined;
}

/** Relayed connections one node may have open at once (a guest may hold 256 sockets; a node runs many guests). */
export const MAX_RELAYED_STREAMS_PER_NODE = 1024;

export function mountRelayStreamRoutes(
  app: Hono, resources: ResourceStore, channel: () => NodeChannel | undefined,
  { maxStreamsPerNode = MAX_RELAYED_STREAMS_PER_NODE }: { maxStreamsPerNode?: number } = {},
): void {
  const openByNode = new Map<string, number>();
  app.post('/skiff/v1/relay/:node/tcp', async (c) => {
    const upgrade = upgradeContext(c);
    const invalid = (field: string, message: string) => c.json({ error: message, causes: [{ field, message }] }, 422);
    if (!upgrade || (c.req.header('upgrade') ?? '').toLowerCase() !== 'skiff-tcp') return invalid('upgrade', 'this is an upgrade to skiff-tcp');
    const target = parseAddress(c.req.header('x-skiff-tunnel-target'));
    if (!target) return invalid('x-skiff-tunnel-target', 'must be POD_IP:PORT');
    const sourceText = c.req.header('x-skiff-tunnel-source');
    const source = sourceText === undefined ? undefined : parseAddress(sourceText, true);
    if (sourceText !== undefined && !source) return invalid('x-skiff-tunnel-source', 'must be POD_IP:PORT');
    const listenerOnly = c.req.header('x-skiff-tunnel-listener-only') === '1';
    const node = c.req.param('node');
    const user = (c.get('user' as never) as { name?: string } | undefined)?.name ?? '';
    const from = user.startsWith(NODE_USER_PREFIX) ? user.slice(NODE_USER_PREFIX.length) : '';
    const [destination, caller] = await Promise.all([node, from].map((name) => resources.get<Node>(resourceTypes.nodes, undefined, name).catch(() => undefined)));
    if (!destination) return c.json({ error: `node ${JSON.stringify(node.slice(0, 100))} not found` }, 404);
    if (!inPodCidr(target.host, destination.spec?.podCIDR)) return c.json({ error: `${target.host} is no pod IP of node ${node}` }, 403);
    if (!caller) return c.json({ error: 'only nodes open relayed connections' }, 403);
    // a node opens connections only from its own pods' addresses, or its own (a NodePort client
    // after SNAT); without one, B sees an unknown source
    const callerIP = caller.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (source && !inPodCidr(source.host, caller.spec?.podCIDR) && source.host !== callerIP) {
      return c.json({ error: `${source.host} is no pod IP of the calling node, nor its address` }, 403);
    }
    const nodes = channel();
    if (!nodes) return c.json({ error: 'the node channel is starting' }, 503);
    const already = openByNode.get(from) ?? 0;
    if (already >= maxStreamsPerNode) {
      c.header('retry-after', '1');
      return c.json({ error: `node ${from} has ${already} relayed connections open, the most one node may have` }, 429);
    }
    openByNode.set(from, already + 1);

    // the call runs until the connection is over; messages before the join wait in `early`
    const abort = new AbortController();
    let send: ((message: unknown) => void) | undefined;
    let joined: MessageStreamEnd | undefined;
    const early: unknown[] = [];
    let opened: (() => void) | undefined;
    const open = new Promise<void>((resolve) => { opened = resolve; });
    const result = nodes.call(node, 'tcp', { podIP: target.host, port: target.port, ...(source ? { source } : {}), from, ...(listenerOnly ? { listenerOnly } : {}) }, {
      timeoutMs: RELAY_STREAM_MAX_MS, signal: abort.signal,
      withInput: (s) => { send = s; },
      onData: (message) => {
        if (joined) return joined.receive(message);
        if (v.is(relayStreamMessage, message) && 'open' in message) return opened!();
        if (early.length < 64) early.push(message);
      },
    });
    void result.catch(() => undefined).finally(() => {
      const left = (openByNode.get(from) ?? 1) - 1;
      if (left > 0) openByNode.set(from, left);
      else openByNode.delete(from);
    });
    const outcome = await Promise.race([open.then(() => undefined), result.then((r) => ({ result: r }), (error: Error) => ({ error }))]);
    if (outcome) {
      const refused = 'result' in outcome ? (outcome.result as { error?: { code?: unknown; message?: unknown } } | undefined)?.error : undefined;
      const error = refused ?? { code: 'destination-unavailable', message: `node ${node}: ${'error' in outcome ? outcome.error.message : 'ended before opening'}` };
      return c.json({ error: { code: String(error.code).slice(0, 64), message: String(error.message).slice(0, 2000) } }, 200);
    }
    upgrade.accepted = true;
    upgrade.socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: skiff-tcp\r\n\r\n');
    const stream = new FramedStream(upgrade.socket, upgrade.head);
    const end = joinMessages(stream, (message) => send?.(message), (reset) => { if (reset) abort.abort(); });
    joined = end;
    for (const message of early.splice(0)) end.receive(message);
    void result.then((r) => {
      if ((r as { reset?: unknown } | undefined)?.reset === true) end.receive({ reset: true });
      else if (!stream.writableEnded) stream.end(); // B is done both ways: what it sent is flushed, then FIN
    }, () => end.receive({ reset: true }));
    return c.body(null, 204);
  });
}
