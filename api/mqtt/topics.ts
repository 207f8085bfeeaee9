// The node channel's MQTT topic tree (docs/mqtt-protocol.md). `{node}` is the node name, which is
// also the MQTT username and clientId.

export const TOPIC_PREFIX = 'fleet/v1';

const nodeBase = (node: string) => `${TOPIC_PREFIX}/nodes/${node}`;

export const topics = {
  presence: (node: string) => `${nodeBase(node)}/presence`,
  status: (node: string) => `${nodeBase(node)}/status`,
  desired: (node: string) => `${nodeBase(node)}/desired`,
  /** A node's compiled NetworkPolicies (decision 057). */
  desiredPolicies: (node: string) => `${nodeBase(node)}/desired/policies`,
  /** The Services table, the same for every node (decision 057). */
  clusterServices: () => `${TOPIC_PREFIX}/cluster/desired/services`,
  /** The peer nodes, the same list for every node (decision 057). */
  clusterPeers: () => `${TOPIC_PREFIX}/cluster/desired/peers`,
  podStatus: (node: string, uid: string) => `${nodeBase(node)}/pods/${uid}/status`,
  lease: (node: string) => `${nodeBase(node)}/lease`,
  events: (node: string) => `${nodeBase(node)}/events`,
  metrics: (node: string) => `${nodeBase(node)}/metrics`,
  podLogs: (node: string, uid: string) => `${nodeBase(node)}/pods/${uid}/logs`,
  rpcRequest: (node: string, method: string) => `${nodeBase(node)}/rpc/req/${method}`,
  rpcResponse: (node: string, cpInstance: string) => `${nodeBase(node)}/rpc/res/${cpInstance}`,
  cpPresence: () => `${TOPIC_PREFIX}/cp/presence`,
} as const;

/** Subscriptions the control plane needs (MQTT wildcards). */
export const controlPlaneSubscriptions = (cpInstance: string): string[] => [
  `${TOPIC_PREFIX}/nodes/+/presence`,
  `${TOPIC_PREFIX}/nodes/+/status`,
  `${TOPIC_PREFIX}/nodes/+/lease`,
  `${TOPIC_PREFIX}/nodes/+/events`,
  `${TOPIC_PREFIX}/nodes/+/metrics`,
  `${TOPIC_PREFIX}/nodes/+/pods/+/status`,
  `${TOPIC_PREFIX}/nodes/+/rpc/res/${cpInstance}`,
];

/**
 * Subscriptions one agent needs: its own topics and the cluster-wide parts of its desired state.
 * The parts come first: a broker sends retained messages in subscription order, so the Services
 * are known before the pods start (their service environment variables).
 */
export const agentSubscriptions = (node: string): string[] => [
  topics.clusterServices(),
  topics.clusterPeers(),
  topics.desiredPolicies(node),
  topics.desired(node),
  `${nodeBase(node)}/rpc/req/+`,
  topics.cpPresence(),
];

export type NodeTopic =
  | { kind: 'presence'; node: string }
  | { kind: 'status'; node: string }
  | { kind: 'desired'; node: string }
  | { kind: 'desiredPolicies'; node: string }
  | { kind: 'clusterDesired'; part: 'services' | 'peers' }
  | { kind: 'lease'; node: string }
  | { kind: 'events'; node: string }
  | { kind: 'metrics'; node: string }
  | { kind: 'podStatus'; node: string; uid: string }
  | { kind: 'podLogs'; node: string; uid: string }
  | { kind: 'rpcRequest'; node: string; method: string }
  | { kind: 'rpcResponse'; node: string; cpInstance: string }
  | { kind: 'cpPresence' };

const SEGMENT = /^[A-Za-z0-9._-]{1,253}$/;

/** Parses a topic of the tree; undefined for anything else (including bad segments). */
export function parseTopic(topic: string): NodeTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'fleet' || parts[1] !== 'v1') return undefined;
  if (parts.length === 4 && parts[2] === 'cp' && parts[3] === 'presence') return { kind: 'cpPresence' };
  if (parts.length === 5 && parts[2] === 'cluster' && parts[3] === 'desired' && (parts[4] === 'services' || parts[4] === 'peers')) {
    return { kind: 'clusterDesired', part: parts[4] };
  }
  if (parts[2] !== 'nodes' || parts.length < 5) return undefined;
  const node = parts[3]!;
  if (!SEGMENT.test(node)) return undefined;
  const rest = parts.slice(4);
  if (rest.length === 1) {
    const k = rest[0];
    if (k === 'presence' || k === 'status' || k === 'desired' || k === 'lease' || k === 'events' || k === 'metrics') return { kind: k, node };
    return undefined;
  }
  if (rest.length === 2 && rest[0] === 'desired' && rest[1] === 'policies') return { kind: 'desiredPolicies', node };
  if (rest.length === 3 && rest[0] === 'pods' && SEGMENT.test(rest[1]!)) {
    if (rest[2] === 'status') return { kind: 'podStatus', node, uid: rest[1]! };
    if (rest[2] === 'logs') return { kind: 'podLogs', node, uid: rest[1]! };
  }
  if (rest.length === 3 && rest[0] === 'rpc' && SEGMENT.test(rest[2]!)) {
    if (rest[1] === 'req') return { kind: 'rpcRequest', node, method: rest[2]! };
    if (rest[1] === 'res') return { kind: 'rpcResponse', node, cpInstance: rest[2]! };
  }
  return undefined;
}
