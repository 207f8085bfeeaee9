// The Ingresses a node gets in its desired state (api/mqtt/desired-ingress.ts) as the router takes
// them (ingress-router.ts): the agents that serve Ingress build their IngressTable from these.
import type { DesiredIngressEntry } from '../mqtt/desired-ingress.js';
import type { Ingress, IngressBackend } from '../types/ingress.js';
import { IngressTable } from './ingress-router.js';

/** The entry back as an Ingress (spec fields the router reads). */
export function entryIngress(e: DesiredIngressEntry): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { namespace: e.namespace, name: e.name, ...(e.creationTimestamp ? { creationTimestamp: e.creationTimestamp } : {}) },
    spec: {
      ...(e.defaultBackend ? { defaultBackend: e.defaultBackend as IngressBackend } : {}),
      ...(e.rules ? { rules: e.rules.map((r) => ({ ...(r.host ? { host: r.host } : {}), http: { paths: r.paths.map((p) => ({ ...p, backend: p.backend as IngressBackend })) } })) } : {}),
      ...(e.tls ? { tls: e.tls } : {}),
    },
  };
}

/** The routing table of `entries` (older Ingresses win ties, as on the gateway). */
export function tableOfEntries(entries: readonly DesiredIngressEntry[]): IngressTable {
  return new IngressTable(entries.map(entryIngress));
}
