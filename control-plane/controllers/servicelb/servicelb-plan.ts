// Which LoadBalancer Services get their ports on the nodes, as K3s's ServiceLB decides by its
// svclb pods' hostPorts: the oldest LoadBalancer (creationTimestamp, then namespace/name) that
// wants a port holds it on every node; a later one wanting a held port (or another Service's
// nodePort) stays pending with a reason. Services with a loadBalancerClass belong to another
// implementation and are left alone. Pure: the desired state and the controller agree.
import type { Service } from '../../resources/kinds/services.js';

export interface LoadBalancerPlan {
  /** namespace/name of the LoadBalancers that hold their ports. */
  admitted: Set<string>;
  /** namespace/name -> why it stays pending. */
  pending: Map<string, string>;
}

const keyOf = (s: Service) => `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;

/** LoadBalancer Services skiff serves (no loadBalancerClass). */
export const isServiceLB = (s: Service) => s.spec?.type === 'LoadBalancer' && !(s.spec as { loadBalancerClass?: string }).loadBalancerClass;

export function planLoadBalancers(services: readonly Service[]): LoadBalancerPlan {
  const held = new Map<string, string>(); // port/protocol -> what holds it on the nodes
  for (const s of services) {
    if (s.spec?.type !== 'NodePort' && s.spec?.type !== 'LoadBalancer') continue;
    for (const p of s.spec.ports ?? []) if (p.nodePort) held.set(`${p.nodePort}/${p.protocol ?? 'TCP'}`, `the nodePort of service ${keyOf(s)}`);
  }
  const candidates = services.filter((s) => isServiceLB(s) && !s.metadata.deletionTimestamp).sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    return ta !== tb ? (ta < tb ? -1 : 1) : keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0;
  });
  const plan: LoadBalancerPlan = { admitted: new Set(), pending: new Map() };
  for (const s of candidates) {
    const ports = (s.spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);
    const taken = ports.filter((p) => held.has(p));
    if (taken.length > 0) {
      plan.pending.set(keyOf(s), taken.map((p) => `port ${p} is already used by ${held.get(p)}`).join('; '));
      continue;
    }
    plan.admitted.add(keyOf(s));
    for (const p of ports) held.set(p, `LoadBalancer ${keyOf(s)}`);
  }
  return plan;
}
