// Handlers that record what a channel delivers, for assertions; builders for the messages they carry.
import type { AgentChannelHandlers, RpcReply } from '../../agent/agent-channel.js';
import type {
  CpPresenceMessage, DesiredStateMessage, EventMessage, LeaseMessage, NodeMetricsMessage, NodeStatusMessage, PodStatusMessage,
  PresenceMessage,
} from '../../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../../api/mqtt/desired-parts.js';
import type { NodeChannelHandlers } from '../../control-plane/node-channel/node-channel.js';

export class RecordingNodeHandlers implements NodeChannelHandlers {
  presences: Array<{ node: string; message: PresenceMessage }> = [];
  statuses: Array<{ node: string; message: NodeStatusMessage }> = [];
  podStatuses: Array<{ node: string; message: PodStatusMessage }> = [];
  leases: Array<{ node: string; message: LeaseMessage }> = [];
  events: Array<{ node: string; message: EventMessage }> = [];
  metricsReports: Array<{ node: string; message: NodeMetricsMessage }> = [];
  presence(node: string, message: PresenceMessage) { this.presences.push({ node, message }); }
  nodeStatus(node: string, message: NodeStatusMessage) { this.statuses.push({ node, message }); }
  podStatus(node: string, message: PodStatusMessage) { this.podStatuses.push({ node, message }); }
  lease(node: string, message: LeaseMessage) { this.leases.push({ node, message }); }
  event(node: string, message: EventMessage) { this.events.push({ node, message }); }
  metrics(node: string, message: NodeMetricsMessage) { this.metricsReports.push({ node, message }); }
}

export type RpcHandler = (method: string, params: Record<string, unknown>, reply: RpcReply) => void;

export class RecordingAgentHandlers implements AgentChannelHandlers {
  desireds: DesiredStateMessage[] = [];
  cpPresences: CpPresenceMessage[] = [];
  rpcs: Array<{ method: string; params: Record<string, unknown>; reply: RpcReply }> = [];
  connects = 0;
  disconnects = 0;
  constructor(private readonly onRpc?: RpcHandler) {}
  desired(message: DesiredStateMessage) { this.desireds.push(message); }
  desiredParts: DesiredPartMessage[] = [];
  desiredPart(message: DesiredPartMessage) { this.desiredParts.push(message); }
  cpPresence(message: CpPresenceMessage) { this.cpPresences.push(message); }
  rpc(method: string, params: Record<string, unknown>, reply: RpcReply) {
    this.rpcs.push({ method, params, reply });
    this.onRpc?.(method, params, reply);
  }
  connected() { this.connects += 1; }
  disconnected() { this.disconnects += 1; }
}

export function aNodeStatus(overrides: Partial<Omit<NodeStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = {}) {
  return {
    labels: { 'kubernetes.io/arch': 'arm64' },
    capacity: { cpu: '4', memory: '1Gi', pods: '20' },
    allocatable: { cpu: '4', memory: '1Gi', pods: '20' },
    conditions: [{ type: 'Ready', status: 'True' as const }],
    addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
    nodeInfo: { architecture: 'arm64' },
    observedGeneration: 0,
    ...overrides,
  };
}

export function aDesiredState(node: string, generation: number, podNames: string[] = []): DesiredStateMessage {
  return {
    v: 1,
    node,
    generation,
    cpEpoch: 'epoch-1',
    ts: Date.UTC(2026, 0, 1),
    pods: podNames.map((name, i) => ({
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', uid: `uid-${name}-${i}` },
        spec: { containers: [{ name: 'main', image: 'registry.local/hello:1' }] },
      },
      images: { 'registry.local/hello:1': { digest: `sha256:${'a'.repeat(64)}`, url: 'https://cp.local/blobs/a' } },
    })),
  };
}
