// AgentChannel: the agent's side of the link to the control plane. The MQTT implementation is
// mqtt-agent-channel.ts; the pod manager and lease loop see only this interface.
import type {
  CpPresenceMessage, DesiredStateMessage, EventMessage, LeaseMessage, NodeMetricsMessage, NodeStatusMessage, PodStatusMessage,
} from '../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../api/mqtt/desired-parts.js';

type Envelope = 'v' | 'sessionId' | 'seq' | 'ts';

export interface RpcReply {
  /** A partial result of a streaming call; more follow. */
  data(chunk: unknown): void;
  /** The final result. */
  done(data?: unknown): void;
  error(code: number, message: string): void;
  /** Aborted when the caller's deadline passes or the channel closes. */
  readonly signal: AbortSignal;
  /**
   * Streaming input from the caller (stdin typed into `kubectl exec -i`, port-forward bytes), in
   * the order it was sent; what arrived before this was called is delivered at once.
   */
  onInput(listener: (data: unknown) => void): void;
}

export interface AgentChannelHandlers {
  /** A valid desired state addressed to this node (the implementation does not filter by generation). */
  desired(message: DesiredStateMessage): void;
  /** A valid part of the desired state on its own topic (decision 057): the cluster's Services or peers, or this node's policies. */
  desiredPart(message: DesiredPartMessage): void;
  rpc(method: string, params: Record<string, unknown>, reply: RpcReply): void;
  cpPresence(message: CpPresenceMessage): void;
  /** Called after every (re)connect, once subscriptions and the birth message are in place. */
  connected(): void;
  disconnected(): void;
}

export interface AgentChannel {
  /** Connects (and keeps reconnecting with jittered backoff until close()). Resolves on the first connect. */
  connect(handlers: AgentChannelHandlers): Promise<void>;
  readonly isConnected: boolean;
  publishNodeStatus(message: Omit<NodeStatusMessage, Envelope>): Promise<void>;
  publishPodStatus(message: Omit<PodStatusMessage, Envelope>): Promise<void>;
  publishLease(message: Omit<LeaseMessage, Envelope>): Promise<void>;
  publishEvent(message: Omit<EventMessage, Envelope>): Promise<void>;
  /** The node's usage over the last window (at most once: a lost report is replaced by the next). */
  publishMetrics?(message: Omit<NodeMetricsMessage, Envelope>): Promise<void>;
  /** Publishes an offline presence, then disconnects. */
  close(): Promise<void>;
}
