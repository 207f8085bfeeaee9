// Who may connect, publish and subscribe on the node channel: pure rules shared by the embedded
// broker's hooks and the generated mosquitto ACL (mosquitto-config.ts).
import { MAX_PAYLOAD_BYTES } from '../../api/mqtt/messages.js';
import { isTopicLevel } from '../../api/mqtt/topic-level.js';
import { TOPIC_PREFIX } from '../../api/mqtt/topics.js';

/** `bootstrap`: an agent holding only the bootstrap token; it may read the control plane's presence and nothing else. */
export type Identity = { kind: 'control-plane' } | { kind: 'node'; node: string } | { kind: 'bootstrap' };

/** What a bootstrap identity may subscribe to (to learn the API URL for the credential exchange). */
export const BOOTSTRAP_SUBSCRIBE_TOPICS: readonly string[] = [`${TOPIC_PREFIX}/cp/presence`];

/** Whole-packet cap on the socket: the largest payload plus room for the fixed header and topic. */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 4096;

/** `{node}` stands for the publishing node; `+` matches one level. Same lists feed mosquitto's ACL. */
export const NODE_PUBLISH_PATTERNS: readonly string[] = [
  `${TOPIC_PREFIX}/nodes/{node}/presence`,
  `${TOPIC_PREFIX}/nodes/{node}/status`,
  `${TOPIC_PREFIX}/nodes/{node}/lease`,
  `${TOPIC_PREFIX}/nodes/{node}/events`,
  `${TOPIC_PREFIX}/nodes/{node}/metrics`,
  `${TOPIC_PREFIX}/nodes/{node}/pods/+/status`,
  `${TOPIC_PREFIX}/nodes/{node}/pods/+/logs`,
  `${TOPIC_PREFIX}/nodes/{node}/rpc/res/+`,
];

/** The cluster-wide parts of the desired state (decision 057): every node reads them, none writes them. */
export const CLUSTER_DESIRED_TOPICS: readonly string[] = [
  `${TOPIC_PREFIX}/cluster/desired/services`,
  `${TOPIC_PREFIX}/cluster/desired/peers`,
];

export const NODE_SUBSCRIBE_PATTERNS: readonly string[] = [
  ...CLUSTER_DESIRED_TOPICS,
  `${TOPIC_PREFIX}/nodes/{node}/desired/policies`,
  `${TOPIC_PREFIX}/nodes/{node}/desired`,
  `${TOPIC_PREFIX}/nodes/{node}/rpc/req/+`,
  `${TOPIC_PREFIX}/cp/presence`,
];

/** The only topic a node may retain (its birth and Will): retained-state poisoning stays local to presence. */
const NODE_RETAINABLE_PATTERN = `${TOPIC_PREFIX}/nodes/{node}/presence`;

export const CONTROL_PLANE_TOPIC_FILTER = `${TOPIC_PREFIX}/#`;


export type AclDecision = { allowed: true } | { allowed: false; reason: string };

const allow: AclDecision = { allowed: true };
const deny = (reason: string): AclDecision => ({ allowed: false, reason });

/** Node names become topic levels and mosquitto `%u` substitutions: keep them to one safe level. */
export function isValidNodeName(name: string): boolean {
  return isTopicLevel(name);
}

/**
 * A node's clientId is its name, so one node can never take over another's session; the control
 * plane uses its username, optionally followed by `/instance` ('/' never occurs in a node name).
 */
export function isClientIdAllowed(identity: Identity, username: string, clientId: string): boolean {
  if (identity.kind === 'node') return isValidNodeName(identity.node) && clientId === identity.node;
  // bootstrap and control plane: the username, optionally followed by `/instance`
  return clientId === username || (clientId.startsWith(`${username}/`) && clientId.length > username.length + 1);
}

const fill = (pattern: string, node: string) => pattern.replace('{node}', node);

/** Does a concrete topic (no wildcards) match a pattern whose `+` levels stand for one safe level? */
function matchesPattern(pattern: string, topic: string): boolean {
  const want = pattern.split('/');
  const have = topic.split('/');
  if (want.length !== have.length) return false;
  return want.every((level, i) => (level === '+' ? isTopicLevel(have[i]!) : level === have[i]));
}

const hasWildcard = (topic: string) => topic.includes('+') || topic.includes('#');

export function canPublish(identity: Identity, topic: string, payloadBytes: number, retain = false): AclDecision {
  if (payloadBytes > MAX_PAYLOAD_BYTES) return deny(`payload of ${payloadBytes} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  if (topic.startsWith('$')) return deny('$ topics are reserved');
  if (hasWildcard(topic)) return deny('wildcards are not allowed in a topic name');
  if (identity.kind === 'control-plane') {
    return topic.startsWith(`${TOPIC_PREFIX}/`) ? allow : deny(`the control plane publishes only under ${TOPIC_PREFIX}/`);
  }
  if (identity.kind === 'bootstrap') return deny('a bootstrap client publishes nothing');
  const { node } = identity;
  if (!NODE_PUBLISH_PATTERNS.some((p) => matchesPattern(fill(p, node), topic))) {
    return deny(`node ${node} may not publish to ${topic}`);
  }
  if (retain && topic !== fill(NODE_RETAINABLE_PATTERN, node)) return deny(`node ${node} may retain only its presence`);
  return allow;
}

/** A node subscribes to exactly its own filters (or one concrete topic they cover); the CP to anything under the prefix. */
export function canSubscribe(identity: Identity, filter: string): AclDecision {
  if (filter.startsWith('$')) return deny('$ topics are reserved');
  if (identity.kind === 'control-plane') {
    return filter.startsWith(`${TOPIC_PREFIX}/`)
      ? allow
      : deny(`the control plane subscribes only under ${TOPIC_PREFIX}/`);
  }
  if (identity.kind === 'bootstrap') {
    return BOOTSTRAP_SUBSCRIBE_TOPICS.includes(filter) ? allow : deny(`a bootstrap client may not subscribe to ${filter}`);
  }
  const { node } = identity;
  const permitted = NODE_SUBSCRIBE_PATTERNS.some((p) => {
    const own = fill(p, node);
    return filter === own || (!hasWildcard(filter) && matchesPattern(own, filter));
  });
  return permitted ? allow : deny(`node ${node} may not subscribe to ${filter}`);
}
