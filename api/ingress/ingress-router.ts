// The Ingress routing table of skiff's gateway and of the agents that serve Ingress (networking.k8s.io/v1 semantics), pure:
// - which Ingresses are skiff's: `spec.ingressClassName` naming an IngressClass whose controller is
//   skiff's, or no class at all while skiff's class is the default one;
// - hosts: exact (case-insensitive, the request's port and trailing dot ignored) before wildcards
//   (`*.example.com` matches exactly one more label: `a.example.com`, not `example.com` nor
//   `a.b.example.com`), then rules without a host; the first group with a matching path wins;
// - paths: Exact (the whole path), Prefix (whole `/`-separated elements: `/foo` matches `/foo`,
//   `/foo/` and `/foo/bar`, not `/foobar`; a trailing slash in the rule is ignored), and
//   ImplementationSpecific as Prefix. The longest matching path wins, Exact before Prefix at equal
//   length, then the older Ingress;
// - otherwise the oldest `spec.defaultBackend`, else nothing (the gateway answers 404).
import { isIPv6 } from 'node:net';
import type { Ingress, IngressBackend, IngressClass } from '../types/ingress.js';

export const SKIFF_INGRESS_CONTROLLER = 'skiff.dev/ingress';
export const SKIFF_INGRESS_CLASS = 'skiff';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** A Service port a request goes to. */
export interface BackendRef {
  namespace: string;
  service: string;
  port: { number?: number; name?: string };
  /** namespace/name of the Ingress that routes it. */
  ingress: string;
}

interface Route {
  path: string;
  exact: boolean;
  backend: BackendRef;
  order: number;
}

/** TLS of one Ingress: hosts (exact or wildcard) served with the certificate of a Secret. */
export interface TlsRef {
  hosts: string[];
  namespace: string;
  secretName: string;
}

/** The Ingresses skiff serves: those of its classes, and classless ones while its class is the default. */
export function skiffIngresses(ingresses: readonly Ingress[], classes: readonly IngressClass[]): Ingress[] {
  const ours = new Set(classes.filter((c) => c.spec?.controller === SKIFF_INGRESS_CONTROLLER).map((c) => c.metadata.name));
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  const defaultIsOurs = defaults.length === 1 && ours.has(defaults[0]!.metadata.name);
  return ingresses.filter((ing) => {
    const name = ing.spec?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
    return name ? ours.has(name) : defaultIsOurs;
  });
}

/** Lower-case host without port and trailing dot; undefined when it is no valid DNS name or IP. */
export function normalizeHost(raw: string | undefined): string | undefined {
  if (!raw || raw.length > 300) return undefined;
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    const ip = end > 0 ? host.slice(1, end) : '';
    return isIPv6(ip) && (end === host.length - 1 || /^:\d{1,5}$/.test(host.slice(end + 1))) ? ip : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  return host.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) ? host : undefined;
}

const ruleHost = (host: string | undefined) => (host ? host.toLowerCase() : '');

function backendRef(namespace: string, ingress: string, backend: IngressBackend | undefined): BackendRef | undefined {
  const service = backend?.service;
  if (!service?.name) return undefined;
  const port = service.port ?? {};
  return { namespace, service: service.name, port: port.number !== undefined ? { number: port.number } : port.name ? { name: port.name } : {}, ingress };
}

function pathMatches(route: Route, path: string): boolean {
  if (route.exact) return path === route.path;
  if (route.path === '') return true; // `/`
  return path === route.path || path.startsWith(`${route.path}/`);
}

export class IngressTable {
  readonly #exact = new Map<string, Route[]>();
  readonly #wildcard = new Map<string, Route[]>();
  readonly #any: Route[] = [];
  readonly #default: BackendRef | undefined;
  readonly tls: TlsRef[] = [];

  /** From skiff's Ingresses (skiffIngresses), in any order: older Ingresses win ties. */
  constructor(ingresses: readonly Ingress[]) {
    const sorted = [...ingresses].sort((a, b) => {
      const ta = a.metadata.creationTimestamp ?? '';
      const tb = b.metadata.creationTimestamp ?? '';
      const ka = `${a.metadata.namespace}/${a.metadata.name}`;
      const kb = `${b.metadata.namespace}/${b.metadata.name}`;
      return ta !== tb ? (ta < tb ? -1 : 1) : ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    let order = 0;
    let fallback: BackendRef | undefined;
    for (const ing of sorted) {
      const namespace = ing.metadata.namespace ?? 'default';
      const key = `${namespace}/${ing.metadata.name}`;
      fallback ??= backendRef(namespace, key, ing.spec?.defaultBackend);
      for (const t of ing.spec?.tls ?? []) {
        if (t.secretName) this.tls.push({ hosts: (t.hosts ?? []).map((h) => h.toLowerCase()), namespace, secretName: t.secretName });
      }
      for (const rule of ing.spec?.rules ?? []) {
        const host = ruleHost(rule.host);
        const group = host === '' ? this.#any : host.startsWith('*.') ? list(this.#wildcard, host.slice(2)) : list(this.#exact, host);
        for (const p of rule.http?.paths ?? []) {
          const backend = backendRef(namespace, key, p.backend);
          if (!backend) continue;
          const exact = p.pathType === 'Exact';
          const raw = p.path ?? '/';
          const path = exact ? raw : raw.replace(/\/+$/, '');
          group.push({ path, exact, backend, order: order++ });
        }
      }
    }
    for (const routes of [this.#any, ...this.#exact.values(), ...this.#wildcard.values()]) {
      routes.sort((a, b) => b.path.length - a.path.length || Number(b.exact) - Number(a.exact) || a.order - b.order);
    }
    this.#default = fallback;
  }

  /** Where a request for `host` (its Host header) and `pathWithQuery` goes, if anywhere. */
  match(host: string | undefined, pathWithQuery: string): BackendRef | undefined {
    const path = pathWithQuery.split('?')[0]!.split('#')[0]!;
    if (!path.startsWith('/')) return this.#default;
    const name = normalizeHost(host);
    const groups: Array<Route[] | undefined> = [];
    if (name) {
      groups.push(this.#exact.get(name));
      const dot = name.indexOf('.');
      if (dot > 0) groups.push(this.#wildcard.get(name.slice(dot + 1)));
    }
    groups.push(this.#any);
    for (const routes of groups) {
      const route = routes?.find((r) => pathMatches(r, path));
      if (route) return route.backend;
    }
    return this.#default;
  }

  /** The TLS entry whose hosts cover `serverName` (exact before wildcard), if any. */
  tlsFor(serverName: string | undefined): TlsRef | undefined {
    const name = normalizeHost(serverName);
    if (!name) return undefined;
    const exact = this.tls.find((t) => t.hosts.includes(name));
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.tls.find((t) => t.hosts.includes(`*.${name.slice(dot + 1)}`)) : undefined;
  }
}

function list<K>(map: Map<K, Route[]>, key: K): Route[] {
  let routes = map.get(key);
  if (!routes) map.set(key, (routes = []));
  return routes;
}
