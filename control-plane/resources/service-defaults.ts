// Defaulting of Service, Endpoints, EndpointSlice, NetworkPolicy (core/v1, discovery/v1, networking/v1 SetDefaults_*).
// Cluster IPs and node ports are allocated separately (service-allocation.ts): they need the store.
import type { EndpointSlice, Endpoints, NetworkPolicy, Service } from './kinds/services.js';

export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.type === 'ExternalName') return;
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None') {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
  }
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  svc.status ??= { loadBalancer: {} };
}

export function defaultEndpoints(ep: Endpoints): void {
  for (const subset of ep.subsets ?? []) for (const p of subset?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

export function defaultEndpointSlice(slice: EndpointSlice): void {
  // SetDefaults_EndpointPort: name and protocol are pointers the real server always fills in (kubectl's
  // describe dereferences the name: a port without one made `kubectl describe svc` panic)
  for (const p of slice.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
  for (const e of slice.endpoints ?? []) {
    // discovery/v1 leaves conditions unset when unknown; the server only ensures the object exists.
    if (e && typeof e === 'object') e.conditions ??= {};
  }
}

export function defaultNetworkPolicy(np: NetworkPolicy): void {
  const spec = (np.spec ??= { podSelector: {} });
  spec.podSelector ??= {};
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
    for (const p of rule?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  }
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = spec.egress && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}
