// A NodeChannel that records what the DesiredPublisher sends: each node's pods messages, the parts
// on their own topics (decision 057), and a node's whole desired state as an agent combines them.
import type { DesiredPartMessage } from '../../../api/mqtt/desired-parts.js';
import type { DesiredStateMessage } from '../../../api/mqtt/messages.js';
import type { NodeChannel, RetainedNodeTopic } from '../../../control-plane/node-channel/node-channel.js';
import { AppliedParts } from '../../../agent/state/applied-parts.js';

export interface DesiredRecorder {
  channel: NodeChannel;
  /** Every pods message, in order. */
  published: DesiredStateMessage[];
  /** Every part, in order. */
  parts: DesiredPartMessage[];
  /** Every clearRetained call, in order. */
  cleared: Array<{ node: string; kinds: RetainedNodeTopic[] }>;
  /** What retainedNodes() answers (a broker an earlier control plane left messages on). */
  retainedOnBroker: Set<string>;
  /** The last part of a kind (policies: of `node`). */
  lastPart<K extends DesiredPartMessage['part']>(part: K, node?: string): Extract<DesiredPartMessage, { part: K }> | undefined;
  /** `node`'s desired state as its agent would hold it: its last pods message with the parts merged in. */
  view(node: string): DesiredStateMessage | undefined;
}

export function desiredRecorder(): DesiredRecorder {
  const published: DesiredStateMessage[] = [];
  const parts: DesiredPartMessage[] = [];
  const cleared: DesiredRecorder['cleared'] = [];
  const retainedOnBroker = new Set<string>();
  const lastPart = <K extends DesiredPartMessage['part']>(part: K, node?: string) =>
    parts.filter((p) => p.part === part && (p.part !== 'policies' || node === undefined || p.node === node)).at(-1) as Extract<DesiredPartMessage, { part: K }> | undefined;
  return {
    channel: {
      start: async () => {},
      stop: async () => {},
      call: async () => undefined,
      publishDesired: async (m) => void published.push(m),
      publishDesiredPart: async (p) => void parts.push(p),
      clearRetained: async (node, kinds) => void cleared.push({ node, kinds: [...kinds] }),
      retainedNodes: async () => new Set(retainedOnBroker),
    },
    published,
    parts,
    cleared,
    retainedOnBroker,
    lastPart,
    view(node) {
      const desired = published.filter((m) => m.node === node).at(-1);
      if (!desired) return undefined;
      const held = new AppliedParts();
      for (const part of [lastPart('services'), lastPart('peers'), lastPart('policies', node)]) if (part) held.accept(part);
      const merged = held.merge(desired);
      // an agent leaves itself out of the cluster's peers
      const peers = merged.peers?.filter((p) => p.node !== node);
      const { peers: _p, networkPolicies, services, ...rest } = merged;
      return { ...rest, ...(services?.length ? { services } : {}), ...(peers?.length ? { peers } : {}), ...(networkPolicies?.length ? { networkPolicies } : {}) };
    },
  };
}
