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

/**
 * The longest MQTT keepalive a node or bootstrap client may ask for. Keepalive 0 turns the broker's
 * check off: a node that connected with it and then went silent (a half-open link, a hostile
 * client) would hold its session, its queued QoS 1 messages and its socket until TCP gave up, and
 * its Will (the presence that marks it gone) would wait as long. Agents use 30 s.
 */
export const MAX_CLIENT_KEEPALIVE_SECONDS = 300;

/** Only the control plane may turn keepalive off (decision 073: its in-process session). */
export function isKeepaliveAllowed(identity: Identity, keepaliveSeconds: number): boolean {
  if (identity.kind === 'control-plane') return true;
  return Number.isInteger(keepaliveSeconds) && keepaliveSeconds >= 1 && keepaliveSeconds <= MAX_CLIENT_KEEPALIVE_SECONDS;
}

/**
 * A pattern split into levels once, at load: `{node}` stands for the client's node, `+` for one safe
 * level. Splitting 8 patterns (and the topic 8 times) on every publish was ~2 % of the control plane
 * at 10,000 agents; now a topic is split once and compared level by level.
 */
type CompiledPattern = readonly string[];
const NODE_LEVEL = '{node}';
const compile = (pattern: string): CompiledPattern => pattern.split('/');

/**
 * Do a topic's levels match a compiled pattern for `node`? `asWritten`: the levels are a filter with
 * wildcards, which must be the pattern itself (its `+` for `+`), never a wider or other wildcard.
 */
function matchesCompiled(pattern: CompiledPattern, node: string, levels: readonly string[], asWritten: boolean): boolean {
  if (pattern.length !== levels.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const have = levels[i]!;
    if (want === NODE_LEVEL) {
      if (have !== node) return false;
    } else if (want === '+') {
      if (asWritten ? have !== '+' : !isTopicLevel(have)) return false;
    } else if (want !== have) {
      return false;
    }
  }
  return true;
}

const COMPILED_PUBLISH = NODE_PUBLISH_PATTERNS.map(compile);
const COMPILED_SUBSCRIBE = NODE_SUBSCRIBE_PATTERNS.map(compile);
const COMPILED_RETAINABLE = compile(NODE_RETAINABLE_PATTERN);

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
  const levels = topic.split('/');
  if (!COMPILED_PUBLISH.some((p) => matchesCompiled(p, node, levels, false))) {
    return deny(`node ${node} may not publish to ${topic}`);
  }
  if (retain && !matchesCompiled(COMPILED_RETAINABLE, node, levels, false)) return deny(`node ${node} may retain only its presence`);
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
  // its own filters as written (`+` for `+`), or one concrete topic they cover
  const levels = filter.split('/');
  const isConcrete = !hasWildcard(filter);
  const permitted = COMPILED_SUBSCRIBE.some((p) => matchesCompiled(p, node, levels, !isConcrete));
  return permitted ? allow : deny(`node ${node} may not subscribe to ${filter}`);
}
