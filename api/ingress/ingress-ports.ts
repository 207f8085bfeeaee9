// The Ingress ports a node serves on its InternalIP (`skiff agent --ingress-port`,
// `--ingress-tls-port`; decision 075): the agent reports them in its node status, the control plane
// keeps them on the Node as an annotation (JSON), sends the node skiff's Ingresses (and the TLS
// Secrets they name only when it has a TLS port), and lists its address in the Ingresses'
// status.loadBalancer.
import type { Node } from '../types/node.js';

export const INGRESS_PORTS_ANNOTATION = 'node.skiff.dev/ingress-ports';

export interface IngressPorts {
  http?: number;
  https?: number;
}

const isPort = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** The annotation's value for `ports`, undefined when the node serves no Ingress. */
export function ingressPortsAnnotation(ports: IngressPorts | undefined): string | undefined {
  if (!ports || (!isPort(ports.http) && !isPort(ports.https))) return undefined;
  return JSON.stringify({ ...(isPort(ports.http) ? { http: ports.http } : {}), ...(isPort(ports.https) ? { https: ports.https } : {}) });
}

/** The Ingress ports the node serves; undefined when none (or the annotation is malformed). */
export function ingressPortsOf(node: Pick<Node, 'metadata'>): IngressPorts | undefined {
  const text = node.metadata.annotations?.[INGRESS_PORTS_ANNOTATION];
  if (!text || text.length > 200) return undefined;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) return undefined;
    const ports = { ...(isPort(o['http']) ? { http: o['http'] } : {}), ...(isPort(o['https']) ? { https: o['https'] } : {}) };
    return ports.http || ports.https ? ports : undefined;
  } catch {
    return undefined;
  }
}
