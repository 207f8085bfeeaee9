// The parts of a node's desired state that travel on their own retained topics (decision 057):
// the cluster's Services and peers, the same for every node, on one cluster-wide topic each, and
// a node's compiled NetworkPolicies on its own. The pods part stays `nodes/{node}/desired`
// (messages.ts). Each part has its store revision (`generation`) and content `hash`.
import * as v from 'valibot';
import { count, text } from './schema-parts.js';
import { desiredNetworkPolicy, desiredPeer, desiredService, PROTOCOL_VERSION } from './messages.js';

/**
 * The most peers the cluster-wide peers part carries: the agent's limit plus the receiving node
 * itself, which every agent leaves out.
 */
export const PEERS_PART_MAX = 1_001;

const partEnvelope = {
  v: v.literal(PROTOCOL_VERSION),
  /** The store revision the part was read at: an agent refuses a part older than the one it applied. */
  generation: count(),
  /** Hash of the part's content: an agent skips a part it already holds (idempotent on redelivery). */
  hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{16,64}$/)),
  cpEpoch: text(1, 64),
  ts: count(),
};

/** The cluster's Services (the same for every node): `fleet/v1/cluster/desired/services`, retained. */
export const servicesPartMessage = v.object({
  ...partEnvelope,
  part: v.literal('services'),
  services: v.pipe(v.array(desiredService), v.maxLength(10_000)),
});

/** The cluster's peer nodes (the same list for every node; each leaves itself out): `fleet/v1/cluster/desired/peers`, retained. */
export const peersPartMessage = v.object({
  ...partEnvelope,
  part: v.literal('peers'),
  peers: v.pipe(v.array(desiredPeer), v.maxLength(PEERS_PART_MAX)),
});

/** The NetworkPolicies selecting pods of one node, compiled: `fleet/v1/nodes/{node}/desired/policies`, retained. */
export const policiesPartMessage = v.object({
  ...partEnvelope,
  part: v.literal('policies'),
  node: text(1, 253),
  networkPolicies: v.pipe(v.array(desiredNetworkPolicy), v.maxLength(10_000)),
});

export const desiredPartMessage = v.variant('part', [servicesPartMessage, peersPartMessage, policiesPartMessage]);
export type DesiredPartMessage = v.InferOutput<typeof desiredPartMessage>;
export type ServicesPartMessage = v.InferOutput<typeof servicesPartMessage>;
export type PeersPartMessage = v.InferOutput<typeof peersPartMessage>;
export type PoliciesPartMessage = v.InferOutput<typeof policiesPartMessage>;
