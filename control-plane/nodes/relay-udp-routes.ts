// UDP by relay through the control plane (api/mqtt/relay.ts, decision 054 "By relay"): an upgraded
// `POST /skiff/v1/relay/NODE/udp` from a node (authorizer: nodes only), answered 101 once NODE took
// the `udp` call (said `open`; else 503 within RELAY_UDP_OPEN_MS), then
// datagram frames one way (api/net/udp-frames.ts). Every frame is judged here: its source must be in
// the calling node's pod CIDR (a node sends only from its own pods) and its destination in NODE's;
// the others are dropped and counted. The good ones go to NODE as the input of one `udp` call per
// link (the agent opens one link per peer node), batched (RELAY_UDP_BATCH_BYTES); NODE judges them
// again as its tunnel does. A link lasts RELAY_UDP_LINK_MS (the agent then opens another). UDP has no backpressure: each calling node may pass on at most
// MAX_RELAYED_UDP_BYTES_PER_SECOND (a token bucket), beyond which frames are dropped and counted, so
// the node channel's queue stays bounded. A malformed frame ends the link. Refusals: 422 (not an
// upgrade to skiff-udp), 403 (not a node), 404 (unknown node), 429 (the calling node has
// MAX_RELAYED_UDP_LINKS_PER_NODE links open), 503 (node channel starting).
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';
import { RELAY_UDP_BATCH_BYTES, RELAY_UDP_LINK_MS, RELAY_UDP_OPEN_MS } from '../../api/mqtt/relay.js';
import { encodeFrame, FrameReader } from '../../api/net/udp-frames.js';
import type { Node } from '../../api/types/node.js';
import { NODE_USER_PREFIX } from '../../api/node-identity.js';
import type { NodeChannel } from '../node-channel/node-channel.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { inPodCidr } from './desired-peers.js';

interface Upgrade {
  socket: Duplex;
  head: Buffer;
  accepted: boolean;
}
const upgradeContext = (c: Context): Upgrade | undefined => (c.env as { upgrade?: Upgrade } | undefined)?.upgrade;

/** UDP relay links one node may have open at once (one per peer node is what an agent opens). */
export const MAX_RELAYED_UDP_LINKS_PER_NODE = 1024;
/** Datagram bytes one node may pass through the relay per second (and in one burst). */
export const MAX_RELAYED_UDP_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** What the relay did with the frames it read (tests, metrics). */
export interface RelayUdpCounts {
  relayed: number;
  /** Source not in the caller's pod CIDR, or destination not in the target's. */
  forged: number;
  /** Over the calling node's rate. */
  dropped: number;
  /** Links ended by a malformed frame. */
  malformed: number;
}

export interface RelayUdpOptions {
  maxLinksPerNode?: number;
  bytesPerSecond?: number;
  now?: () => number;
  counts?: RelayUdpCounts;
}

export function mountRelayUdpRoutes(app: Hono, resources: ResourceStore, channel: () => NodeChannel | undefined, options: RelayUdpOptions = {}): RelayUdpCounts {
  const maxLinks = options.maxLinksPerNode ?? MAX_RELAYED_UDP_LINKS_PER_NODE;
  const rate = options.bytesPerSecond ?? MAX_RELAYED_UDP_BYTES_PER_SECOND;
  const now = options.now ?? Date.now;
  const counts = options.counts ?? { relayed: 0, forged: 0, dropped: 0, malformed: 0 };
  const linksByNode = new Map<string, number>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const take = (node: string, bytes: number): boolean => {
    const t = now();
    const bucket = buckets.get(node) ?? { tokens: rate, at: t };
    bucket.tokens = Math.min(rate, bucket.tokens + ((t - bucket.at) * rate) / 1000);
    bucket.at = t;
    buckets.set(node, bucket);
    if (bucket.tokens < bytes) return false;
    bucket.tokens -= bytes;
    return true;
  };

  app.post('/skiff/v1/relay/:node/udp', async (c) => {
    const upgrade = upgradeContext(c);
    if (!upgrade || (c.req.header('upgrade') ?? '').toLowerCase() !== 'skiff-udp') {
      return c.json({ error: 'this is an upgrade to skiff-udp', causes: [{ field: 'upgrade', message: 'this is an upgrade to skiff-udp' }] }, 422);
    }
    const node = c.req.param('node');
    const user = (c.get('user' as never) as { name?: string } | undefined)?.name ?? '';
    const from = user.startsWith(NODE_USER_PREFIX) ? user.slice(NODE_USER_PREFIX.length) : '';
    const [destination, caller] = await Promise.all([node, from].map((name) => resources.get<Node>(resourceTypes.nodes, undefined, name).catch(() => undefined)));
    if (!destination) return c.json({ error: `node ${JSON.stringify(node.slice(0, 100))} not found` }, 404);
    if (!caller) return c.json({ error: 'only nodes open relayed UDP links' }, 403);
    const nodes = channel();
    if (!nodes) return c.json({ error: 'the node channel is starting' }, 503);
    const already = linksByNode.get(from) ?? 0;
    if (already >= maxLinks) {
      c.header('retry-after', '1');
      return c.json({ error: `node ${from} has ${already} relayed UDP links open, the most one node may have` }, 429);
    }
    linksByNode.set(from, already + 1);
    const sourceCidr = caller.spec?.podCIDR;
    const targetCidr = destination.spec?.podCIDR;

    const abort = new AbortController();
    let send: ((message: unknown) => void) | undefined;
    let opened: (() => void) | undefined;
    const open = new Promise<void>((resolve) => { opened = resolve; });
    const result = nodes.call(node, 'udp', { from }, {
      timeoutMs: RELAY_UDP_LINK_MS, signal: abort.signal, withInput: (s) => { send = s; },
      onData: (message) => { if ((message as { open?: unknown } | null)?.open === true) opened!(); },
    });
    const socket = upgrade.socket;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      abort.abort();
      if (upgrade.accepted) socket.destroy();
      const left = (linksByNode.get(from) ?? 1) - 1;
      if (left > 0) linksByNode.set(from, left);
      else linksByNode.delete(from);
    };
    void result.catch(() => undefined).finally(release);
    let timer: NodeJS.Timeout | undefined;
    const refused = await Promise.race([
      open.then(() => undefined),
      result.then(() => 'ended before opening', (error: Error) => error.message),
      new Promise<string>((resolve) => { timer = setTimeout(() => resolve(`not taken within ${RELAY_UDP_OPEN_MS} ms`), RELAY_UDP_OPEN_MS); }),
    ]);
    clearTimeout(timer);
    if (refused !== undefined) {
      release();
      return c.json({ error: `node ${node} did not take the UDP relay link: ${refused.slice(0, 500)}` }, 503);
    }

    upgrade.accepted = true;
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: skiff-udp\r\n\r\n');
    const reader = new FrameReader();
    const onData = (chunk: Buffer) => {
      const batch: Uint8Array[] = [];
      let size = 0;
      const flush = () => {
        if (size > 0) send?.({ frames: Buffer.concat(batch, size).toString('base64') });
        batch.length = 0;
        size = 0;
      };
      for (const frame of reader.push(chunk)) {
        if (!inPodCidr(frame.from.host, sourceCidr) || !inPodCidr(frame.to.host, targetCidr)) {
          counts.forged++;
          continue;
        }
        const bytes = encodeFrame(frame.from, frame.to, frame.data);
        if (!send || !take(from, bytes.length)) {
          counts.dropped++;
          continue;
        }
        if (size + bytes.length > RELAY_UDP_BATCH_BYTES) flush();
        batch.push(bytes);
        size += bytes.length;
        counts.relayed++;
      }
      flush();
      if (reader.broken) {
        counts.malformed++;
        release(); // there is no finding the next frame in a byte stream
      }
    };
    if (upgrade.head.length > 0) onData(upgrade.head);
    socket.on('data', onData);
    socket.once('close', release);
    socket.resume();
    return c.body(null, 204);
  });
  return counts;
}
