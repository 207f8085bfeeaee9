// NodeChannel: the control plane's side of the link to agents. The MQTT implementation is
// mqtt-node-channel.ts; the rest of the control plane sees only this interface.
import type {
  DesiredStateMessage, EventMessage, LeaseMessage, NodeMetricsMessage, NodeStatusMessage, PodStatusMessage, PresenceMessage,
} from '../../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../../api/mqtt/desired-parts.js';
import type { parseTopic } from '../../api/mqtt/topics.js';

/** The per-node topics something retains: the control plane its desired state and policies part, the agent its presence. */
export type RetainedNodeTopic = 'desired' | 'desiredPolicies' | 'presence';

/** Called for every valid message from an agent; invalid ones never reach these. */
export interface NodeChannelHandlers {
  presence(node: string, message: PresenceMessage): void;
  nodeStatus(node: string, message: NodeStatusMessage): void;
  podStatus(node: string, message: PodStatusMessage): void;
  lease(node: string, message: LeaseMessage): void;
  event(node: string, message: EventMessage): void;
  /** A node's usage report; dropped when absent. */
  metrics?(node: string, message: NodeMetricsMessage): void;
}

/** Topic kinds as api/mqtt/topics.ts parses them ('unknown' for anything else). */
export type TopicKind = NonNullable<ReturnType<typeof parseTopic>>['kind'] | 'unknown';

/** What the channel reports about its traffic (control-plane/metrics/node-channel-metrics.ts). */
export interface NodeChannelObserver {
  received(kind: TopicKind, bytes: number): void;
  /** A received message that was invalid (bad payload, unknown topic, another control plane's). */
  dropped(kind: TopicKind): void;
  sent(kind: TopicKind, bytes: number): void;
  connected(isConnected: boolean): void;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Streaming calls: every partial `data` chunk, in order. The promise resolves at `done`. */
  onData?: (data: unknown) => void;
  /**
   * Calls that take input while they run (stdin, port-forward bytes): called once the request is
   * on its way, with `send`, which delivers input to the agent's handler in the order sent.
   */
  withInput?: (send: (data: unknown) => void) => void;
}

export class NodeCallError extends Error {
  override readonly name = 'NodeCallError';
  constructor(readonly node: string, readonly method: string, readonly code: number, message: string) {
    super(message);
  }
}

export interface NodeChannel {
  start(handlers: NodeChannelHandlers): Promise<void>;
  /** Publishes a node's full desired state (retained, QoS 1). */
  publishDesired(desired: DesiredStateMessage): Promise<void>;
  /**
   * Publishes a part of the desired state on its own topic (retained, QoS 1): the cluster-wide
   * Services or peers, or one node's policies (decision 057).
   */
  publishDesiredPart(part: DesiredPartMessage): Promise<void>;
  /**
   * Removes what the broker retains on a node's topics (an empty retained publish each): for a
   * deleted Node. Throws InvalidTopicLevelError for a name that is not one topic level (wildcards,
   * '/'), so no name can reach another node's topics.
   */
  clearRetained(node: string, kinds: readonly RetainedNodeTopic[]): Promise<void>;
  /** The nodes the broker retains anything for (desired state, policies part, presence), asked on a connection of its own. */
  retainedNodes(): Promise<Set<string>>;
  /**
   * Request/response to one agent (logs, exec...). Resolves with the final `data`; rejects with
   * NodeCallError for an agent error, or a timeout/abort.
   */
  call(node: string, method: string, params: Record<string, unknown>, options: CallOptions): Promise<unknown>;
  stop(): Promise<void>;
}

/** A call's `timeoutMs` passed without a final response from the agent. */
export class NodeCallTimeoutError extends Error {
  override readonly name = 'NodeCallTimeoutError';
  constructor(readonly node: string, readonly method: string, readonly timeoutMs: number) {
    super(`call ${method} to node ${node} timed out after ${timeoutMs} ms`);
  }
}

/** The channel was stopped (or not started) while a call was pending or about to be made. */
export class NodeChannelStoppedError extends Error {
  override readonly name = 'NodeChannelStoppedError';
  constructor(message = 'node channel is not running') {
    super(message);
  }
}
