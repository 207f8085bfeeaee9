// Table printers for services, endpoints, endpointslices, ingresses, ingressclasses, networkpolicies (kubectl's columns).
import type { EndpointSlice, Endpoints, Ingress, IngressClass, LoadBalancerIngress, NetworkPolicy, Service } from '../../resources/kinds/services.js';
import { formatLabelSelector } from '../../resources/selector-object.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

const maxShown = 3;

/** "a,b,c + 2 more..." as kubectl abbreviates long lists. */
function abbreviated(items: string[]): string {
  if (items.length === 0) return '<none>';
  const shown = items.slice(0, maxShown).join(',');
  return items.length > maxShown ? `${shown} + ${items.length - maxShown} more...` : shown;
}

const lbAddresses = (ingress: LoadBalancerIngress[] | undefined) => (ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);

function externalIp(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'LoadBalancer': {
      const all = [...lbAddresses(svc.status?.loadBalancer?.ingress), ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName': return spec.externalName ?? '<none>';
    default: return external.length ? external.join(',') : '<none>';
  }
}

export const servicePrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Type', 'type determines how the Service is exposed.'),
    column('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    column('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    column('Port(s)', 'The list of ports that are exposed by this service.'),
    ageColumn,
    column('Selector', 'Route service traffic to pods with label keys and values matching this selector.', { priority: 1 }),
  ],
  cells(obj, nowMs) {
    const svc = obj as Service;
    const spec = svc.spec ?? {};
    const ports = (spec.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`));
    const selector = Object.entries(spec.selector ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
    return [svc.metadata.name, spec.type ?? 'ClusterIP', spec.clusterIP || '<none>', externalIp(svc), ports.length ? ports.join(',') : '<none>',
      ageOf(svc.metadata.creationTimestamp, nowMs), selector || '<none>'];
  },
};

export const endpointsPrinter: KindPrinter = {
  columns: [nameColumn, column('Endpoints', 'Endpoints is the list of endpoints in the object.'), ageColumn],
  cells(obj, nowMs) {
    const ep = obj as Endpoints;
    const items: string[] = [];
    for (const s of ep.subsets ?? []) {
      const ports = s.ports?.length ? s.ports : [undefined];
      for (const a of s.addresses ?? []) for (const p of ports) items.push(p ? `${a.ip}:${p.port}` : a.ip);
    }
    return [ep.metadata.name, abbreviated(items), ageOf(ep.metadata.creationTimestamp, nowMs)];
  },
};

export const endpointSlicePrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
    column('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    column('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const slice = obj as EndpointSlice;
    const ports = (slice.ports ?? []).map((p) => (p.port === undefined ? '<unset>' : String(p.port)));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return [slice.metadata.name, slice.addressType ?? '', ports.length ? ports.join(',') : '<unset>', abbreviated(addresses),
      ageOf(slice.metadata.creationTimestamp, nowMs)];
  },
};

export const ingressPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Class', 'ingressClassName is the name of an IngressClass cluster resource.'),
    column('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'Ports of TLS configurations that open'),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const ing = obj as Ingress;
    const hosts = (ing.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => Boolean(h));
    const address = lbAddresses(ing.status?.loadBalancer?.ingress);
    return [ing.metadata.name, ing.spec?.ingressClassName || '<none>', hosts.length ? abbreviated(hosts) : '*', address.join(','),
      ing.spec?.tls?.length ? '80, 443' : '80', ageOf(ing.metadata.creationTimestamp, nowMs)];
  },
};

export const ingressClassPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Controller', 'Controller that is responsible for handling this class'),
    column('Parameters', 'A reference to a resource with additional parameters'),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const ic = obj as IngressClass;
    const p = ic.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [ic.metadata.name, ic.spec?.controller ?? '', params, ageOf(ic.metadata.creationTimestamp, nowMs)];
  },
};

export const networkPolicyPrinter: KindPrinter = {
  columns: [nameColumn, column('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), ageColumn],
  cells(obj, nowMs) {
    const np = obj as NetworkPolicy;
    return [np.metadata.name, formatLabelSelector(np.spec?.podSelector) || '<none>', ageOf(np.metadata.creationTimestamp, nowMs)];
  },
};
