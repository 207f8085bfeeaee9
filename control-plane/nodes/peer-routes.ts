// On-demand peers (decision 043, api/peer-lookup.ts): GET /skiff/v1/peers?ip=POD_IP, for nodes only
// (the node authorizer lets them; this route refuses everyone else too), answers the node whose pod
// CIDR holds POD_IP as a peer entry ({peer: {node, podCIDR, address, port}}: nothing but what the
// peers part would carry), or 404. A value that is not one IPv4 address of the cluster CIDR is
// refused with 422 and a cause; each node gets a token bucket (429 with Retry-After past it).
import { isIPv4 } from 'node:net';
import type { Hono } from 'hono';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../api/clock.js';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../api/node-identity.js';
import { PEER_LOOKUP_PATH, type PeerLookupAnswer } from '../../api/peer-lookup.js';
import { inIpv4Block } from '../../api/pod-addresses.js';
import type { ApiUser } from '../api/api-user.js';
import type { PeerDirectory } from './peer-directory.js';

export interface PeerRouteOptions {
  /** The directory, once the informers run (undefined: 503). */
  directory: () => PeerDirectory | undefined;
  /** The cluster's pod network (--cluster-cidr, normalised). */
  clusterCidr: string;
  clock: Clock;
  /** Lookups a node may make per second, and at once (defaults 20 and 100). */
  perSecond?: number;
  burst?: number;
}

/** Longest query value looked at (an IPv4 address is at most 15 characters). */
const MAX_IP_CHARS = 64;

export function mountPeerRoutes(app: Hono, options: PeerRouteOptions): void {
  const perSecond = options.perSecond ?? 20;
  const burst = options.burst ?? 100;
  const buckets = new LRUCache<string, { tokens: number; at: number }>({ max: 100_000 });
  app.get(PEER_LOOKUP_PATH, (c) => {
    const user = c.get('user' as never) as ApiUser | undefined;
    if (!user?.name.startsWith(NODE_USER_PREFIX) || !(user.groups ?? []).includes(NODES_GROUP)) {
      return c.json({ error: 'only nodes look up peers' }, 403);
    }
    const node = user.name.slice(NODE_USER_PREFIX.length);
    const now = options.clock.now();
    const bucket = buckets.get(node) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(node, bucket);
    if (bucket.tokens < 1) {
      const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      c.header('Retry-After', String(seconds));
      return c.json({ error: `node ${node} looks up peers more than ${perSecond} times a second` }, 429);
    }
    bucket.tokens -= 1;
    const invalid = (message: string) => c.json({ error: message, causes: [{ field: 'ip', message }] }, 422);
    const values = c.req.queries('ip') ?? [];
    if (values.length !== 1) return invalid(values.length === 0 ? 'the query needs ip=POD_IP' : 'give ip once');
    const ip = values[0]!;
    const shown = JSON.stringify(ip.slice(0, MAX_IP_CHARS));
    if (ip.length > MAX_IP_CHARS) return invalid(`${shown}... is longer than an IP address`);
    if (ip.includes(':')) return invalid(`${shown}: pod addresses are IPv4`);
    if (!isIPv4(ip)) return invalid(`${shown} is not an IPv4 address`);
    if (!inIpv4Block(ip, options.clusterCidr)) return invalid(`${ip} is not in the cluster's pod network ${options.clusterCidr}`);
    const directory = options.directory();
    if (!directory) {
      c.header('Retry-After', '1');
      return c.json({ error: 'the node directory is starting' }, 503);
    }
    const peer = directory.owner(ip);
    if (!peer) return c.json({ error: `no node has the pod CIDR of ${ip}` }, 404);
    const answer: PeerLookupAnswer = { peer: { node: peer.node, podCIDR: peer.podCIDR, ...(peer.address ? { address: peer.address } : {}), port: peer.port } };
    return c.json(answer, 200);
  });
}
