// The Services part of every node's desired state: each Service with a ClusterIP (or headless),
// its ports, and the Ready addresses of its Endpoints, compact (no not-ready addresses, no
// targetRefs; a headless Service's hostnames): what an agent's pod network needs to route by ClusterIP and DNS name and to set
// the service environment variables. ExternalName Services carry their external name (a CNAME).
import type { DesiredService } from '../../api/mqtt/messages.js';
import type { Endpoints, Service } from '../resources/kinds/services.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { planLoadBalancers } from '../controllers/servicelb/servicelb-plan.js';

const TCP_UDP_SCTP = new Set(['TCP', 'UDP', 'SCTP']);
const protocolOf = (p: string | undefined) => (p && TCP_UDP_SCTP.has(p) ? { protocol: p as 'TCP' | 'UDP' | 'SCTP' } : {});
const validPort = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

const affinitySeconds = (seconds: unknown) =>
  Number.isSafeInteger(seconds) && (seconds as number) >= 1 && (seconds as number) <= 86_400 ? { affinitySeconds: seconds as number } : {};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * A headless Service's addresses that carry a hostname (the Endpoints controller sets it for pods
 * whose spec.subdomain is the Service): `<hostname>.<service>.<ns>.svc` names that pod, as CoreDNS.
 */
function headlessHosts(clusterIP: string, subsets: readonly { addresses?: Array<{ ip: string; hostname?: string }> }[]) {
  if (clusterIP !== 'None') return {};
  const hosts = subsets.flatMap((subset) => subset.addresses ?? [])
    .filter((a) => typeof a.hostname === 'string' && DNS_LABEL.test(a.hostname) && typeof a.ip === 'string' && a.ip.length > 0 && a.ip.length <= 64)
    .map((a) => ({ hostname: a.hostname!, ip: a.ip }))
    .sort((a, b) => (a.hostname === b.hostname ? (a.ip < b.ip ? -1 : 1) : a.hostname < b.hostname ? -1 : 1));
  return hosts.length > 0 ? { hosts } : {};
}

/** Every routable Service with its Ready endpoints, sorted (a stable content hash). */
export async function desiredServices(resources: ResourceStore): Promise<DesiredService[]> {
  const [services, endpoints] = await Promise.all([
    resources.list<Service>(resourceTypes.services),
    resources.list<Endpoints>(resourceTypes.endpoints),
  ]);
  const byKey = new Map(endpoints.items.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const out: DesiredService[] = [];
  const loadBalancers = planLoadBalancers(services.items).admitted;
  for (const service of services.items) {
    const { name, namespace } = service.metadata;
    if (!name || !namespace) continue;
    if (service.spec?.type === 'ExternalName') {
      const externalName = service.spec.externalName;
      if (typeof externalName !== 'string' || externalName.length === 0 || externalName.length > 253) continue;
      const ports = (service.spec.ports ?? []).filter((p) => validPort(p.port))
        .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...protocolOf(p.protocol) }));
      out.push({ namespace, name, externalName: externalName.toLowerCase().replace(/\.$/, ''), ports, endpoints: [] });
      continue;
    }
    const clusterIP = service.spec?.clusterIP;
    if (!clusterIP) continue; // not allocated yet
    const exposed = service.spec.type === 'NodePort' || service.spec.type === 'LoadBalancer';
    const ports = (service.spec.ports ?? []).filter((p) => validPort(p.port))
      .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...protocolOf(p.protocol), ...(exposed && validPort(p.nodePort) ? { nodePort: p.nodePort } : {}) }));
    const external = {
      ...(exposed && (service.spec as { externalTrafficPolicy?: string }).externalTrafficPolicy === 'Local' ? { externalTrafficPolicy: 'Local' as const } : {}),
      ...(loadBalancers.has(`${namespace}/${name}`) ? { loadBalancer: true as const } : {}),
    };
    const subsets = byKey.get(`${namespace}/${name}`)?.subsets ?? [];
    const groups = subsets
      .map((subset) => ({
        ips: (subset.addresses ?? []).map((a) => a.ip).filter((ip) => typeof ip === 'string' && ip.length > 0).sort(),
        ports: (subset.ports ?? []).filter((p) => validPort(p.port))
          .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...protocolOf(p.protocol) })),
      }))
      .filter((group) => group.ips.length > 0);
    const affinity = service.spec.sessionAffinity === 'ClientIP' ? {
      sessionAffinity: 'ClientIP' as const,
      ...affinitySeconds((service.spec as { sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } } }).sessionAffinityConfig?.clientIP?.timeoutSeconds),
    } : {};
    out.push({ namespace, name, clusterIP, ...affinity, ports, ...external, ...headlessHosts(clusterIP, subsets), endpoints: groups });
  }
  return out.sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}
