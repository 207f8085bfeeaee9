// The NodePort and LoadBalancer ports a node could not bind (another process holds the port,
// EACCES below 1024): its agent reports them in its node status, the control plane keeps them on
// the Node as an annotation (JSON list), and the ServiceLB controller turns them into Warning events
// on the Services and leaves the node out of their status.loadBalancer.ingress.
import type { Node } from './types/node.js';

export const UNSERVED_PORTS_ANNOTATION = 'node.skiff.dev/unserved-ports';

export interface UnservedPort {
  port: number;
  /** namespace/name of the Service that wanted it. */
  service: string;
  /** The OS error code (EADDRINUSE, EACCES...). */
  code: string;
}

/** The node's unserved ports; a malformed annotation counts as none. */
export function unservedPortsOf(node: Node): UnservedPort[] {
  const text = node.metadata.annotations?.[UNSERVED_PORTS_ANNOTATION];
  if (!text || text.length > 100_000) return [];
  try {
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter((e): e is UnservedPort => typeof e === 'object' && e !== null
      && Number.isSafeInteger((e as UnservedPort).port) && typeof (e as UnservedPort).service === 'string' && typeof (e as UnservedPort).code === 'string');
  } catch {
    return [];
  }
}
