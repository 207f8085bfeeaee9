// The cluster's Services as this node's pod network sees them (from the desired state): lookup by
// ClusterIP and by DNS name with a pod's search path (svc, svc.ns, svc.ns.svc,
// svc.ns.svc.cluster.local; and a headless Service's pods as host.svc...), and the choice of a Ready endpoint for a service port, round robin.
import type { DesiredService } from '../../api/mqtt/messages.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
const DEFAULT_AFFINITY_SECONDS = 10_800;
/** Clients remembered for sessionAffinity at most (the oldest go first). */
const MAX_AFFINITIES = 10_000;

/** One endpoint a request may go to: a Ready pod's IP and the port it serves the service port on. */
export interface Endpoint {
  ip: string;
  port: number;
}


/** The names a pod's resolver tries for `name`, split into labels, cluster domain and `svc` taken off. */
function searchCandidates(name: string, namespace: string): string[][] {
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  const candidates = name.endsWith(suffix)
    ? [name.slice(0, -suffix.length)]
    : name.endsWith('.svc')
      ? [name.slice(0, -4)]
      : [`${name}.${namespace}`, name];
  return candidates.map((candidate) => candidate.split('.'));
}

export class ServiceTable {
  #byKey = new Map<string, DesiredService>();
  #byClusterIP = new Map<string, DesiredService>();
  /** Round-robin position per service port. */
  readonly #next = new Map<string, number>();
  /** sessionAffinity ClientIP: service port and client -> its endpoint, and when it was last used. */
  readonly #affinity = new Map<string, { endpoint: Endpoint; usedAt: number }>();

  /** Replaces the table (a new desired state). */
  set(services: readonly DesiredService[]): void {
    this.#byKey = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
    this.#byClusterIP = new Map(services.filter((s) => s.clusterIP && s.clusterIP !== 'None').map((s) => [s.clusterIP!, s]));
  }

  get services(): Iterable<DesiredService> {
    return this.#byKey.values();
  }

  /** The Service `namespace/name`. */
  get(namespace: string, name: string): DesiredService | undefined {
    return this.#byKey.get(`${namespace}/${name}`);
  }

  byClusterIP(ip: string): DesiredService | undefined {
    return this.#byClusterIP.get(ip);
  }

  /**
   * The Service a DNS name means from a pod in `namespace`, as its resolv.conf would resolve it
   * (search `ns.svc.cluster.local svc.cluster.local cluster.local`, ndots 5).
   */
  byName(name: string, namespace: string): DesiredService | undefined {
    for (const parts of searchCandidates(name, namespace)) {
      if (parts.length !== 2) continue;
      const service = this.#byKey.get(`${parts[1]}/${parts[0]}`);
      if (service) return service;
    }
    return undefined;
  }

  /**
   * The IPs of the pod a name `<hostname>.<service>[.ns[.svc[.cluster.local]]]` means from a pod in
   * `namespace` (a headless Service's endpoint with that hostname: a StatefulSet's stable network
   * identity, as CoreDNS answers it); undefined when it names no such pod.
   */
  podByName(name: string, namespace: string): string[] | undefined {
    for (const parts of searchCandidates(name, namespace)) {
      if (parts.length !== 3) continue;
      const service = this.#byKey.get(`${parts[2]}/${parts[1]}`);
      const ips = service?.hosts?.filter((h) => h.hostname === parts[0]).map((h) => h.ip);
      if (ips && ips.length > 0) return [...new Set(ips)];
    }
    return undefined;
  }

  /** The service port `port` of `service` for `protocol` (default TCP), if it has one. */
  static servicePort(service: DesiredService, port: number, protocol: 'TCP' | 'UDP' = 'TCP') {
    return service.ports.find((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);
  }

  /** The Ready endpoints serving service port `port` (by the port's name, as kube-proxy matches them). */
  static endpoints(service: DesiredService, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): Endpoint[] {
    const servicePort = ServiceTable.servicePort(service, port, protocol);
    if (!servicePort) return [];
    const out: Endpoint[] = [];
    for (const group of service.endpoints) {
      const target = group.ports.find((p) => (p.name ?? '') === (servicePort.name ?? '') && (p.protocol ?? 'TCP') === protocol)
        ?? (service.ports.length === 1 && group.ports.length === 1 ? group.ports[0] : undefined);
      if (!target) continue;
      for (const ip of group.ips) out.push({ ip, port: target.port });
    }
    return out;
  }

  /**
   * The endpoint for a request from `client` (its pod IP) among `candidates`: round robin per service
   * port, or with sessionAffinity ClientIP the client's previous endpoint while it is still a
   * candidate and was used within the affinity timeout. Undefined when there is none.
   */
  pick(service: DesiredService, port: number, candidates: readonly Endpoint[], client = '', nowMs = Date.now()): Endpoint | undefined {
    if (candidates.length === 0) return undefined;
    if (service.sessionAffinity !== 'ClientIP') return this.#roundRobin(service, port, candidates);
    const key = `${service.namespace}/${service.name}:${port}:${client}`;
    const sticky = this.#affinity.get(key);
    const timeoutMs = (service.affinitySeconds ?? DEFAULT_AFFINITY_SECONDS) * 1000;
    const kept = sticky && nowMs - sticky.usedAt <= timeoutMs ? candidates.find((e) => e.ip === sticky.endpoint.ip && e.port === sticky.endpoint.port) : undefined;
    const endpoint = kept ?? this.#roundRobin(service, port, candidates);
    if (this.#affinity.size >= MAX_AFFINITIES && !this.#affinity.has(key)) this.#affinity.delete(this.#affinity.keys().next().value!);
    this.#affinity.set(key, { endpoint, usedAt: nowMs });
    return endpoint;
  }

  #roundRobin(service: DesiredService, port: number, candidates: readonly Endpoint[]): Endpoint {
    const key = `${service.namespace}/${service.name}:${port}`;
    const next = this.#next.get(key) ?? 0;
    this.#next.set(key, (next + 1) % 1_000_000);
    return candidates[next % candidates.length]!;
  }
}
