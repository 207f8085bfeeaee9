// The Ingress part of a node's desired state (decision 075), for nodes that serve Ingress on their
// own address (their Node's ingress-ports annotation): skiff's Ingresses, compact, and for a node
// with an Ingress TLS port the certificate and key of the TLS Secrets they name. What a node may
// see is bounded here: only Secrets named in `spec.tls` of skiff's Ingresses, only in the
// Ingress's namespace, only of type `kubernetes.io/tls`, only their `tls.crt` and `tls.key`; a node
// that serves no TLS port gets no keys at all, and a node cannot write Ingresses (the node
// authorizer), so it cannot choose which Secrets it gets.
import type { DesiredIngress, DesiredIngressCertificate, DesiredIngressEntry } from '../../api/mqtt/desired-ingress.js';
import { skiffIngresses } from '../../api/ingress/ingress-router.js';
import { ingressPortsOf } from '../../api/ingress/ingress-ports.js';
import type { Ingress, IngressBackend, IngressClass } from '../../api/types/ingress.js';
import type { Node } from '../../api/types/node.js';
import { INGRESS_PORTS_ANNOTATION } from '../../api/ingress/ingress-ports.js';
import { NotFoundError } from '../../api/errors.js';
import type { Secret } from '../resources/kinds/config.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

const TLS_SECRET_TYPE = 'kubernetes.io/tls';
const MAX_PEM_CHARS = { cert: 256 * 1024, key: 64 * 1024 };

export interface NodeIngress {
  /** Absent: the node serves no Ingress. */
  ingress?: DesiredIngress;
  /** `secrets/ns/name` of the Secrets it carries (a change to one republishes the node). */
  secretRefs: string[];
}

function backend(b: IngressBackend | undefined): DesiredIngressEntry['defaultBackend'] {
  const s = b?.service;
  if (!s?.name) return {};
  const port = s.port?.number !== undefined ? { number: s.port.number } : s.port?.name ? { name: s.port.name } : undefined;
  return { service: { name: s.name, ...(port ? { port } : {}) } };
}

/** One of skiff's Ingresses as the router needs it. */
export function ingressEntry(ing: Ingress): DesiredIngressEntry {
  const spec = ing.spec ?? {};
  return {
    namespace: ing.metadata.namespace ?? 'default',
    name: ing.metadata.name ?? '',
    ...(ing.metadata.creationTimestamp ? { creationTimestamp: ing.metadata.creationTimestamp } : {}),
    ...(spec.defaultBackend ? { defaultBackend: backend(spec.defaultBackend) } : {}),
    ...(spec.rules ? {
      rules: spec.rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        paths: (r.http?.paths ?? []).map((p) => ({ ...(p.path !== undefined ? { path: p.path } : {}), pathType: p.pathType, backend: backend(p.backend) ?? {} })),
      })),
    } : {}),
    ...(spec.tls ? { tls: spec.tls.filter((t) => t.secretName).map((t) => ({ hosts: t.hosts ?? [], secretName: t.secretName! })) } : {}),
  };
}

async function certificate(resources: ResourceStore, namespace: string, name: string): Promise<DesiredIngressCertificate | undefined> {
  let secret: Secret;
  try {
    secret = await resources.get<Secret>(resourceTypes.secrets, namespace, name);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  if (secret.type !== TLS_SECRET_TYPE) return undefined; // an Opaque Secret named in spec.tls never leaves the control plane
  const pem = (field: string) => Buffer.from(secret.data?.[field] ?? '', 'base64').toString('utf8');
  const cert = pem('tls.crt');
  const key = pem('tls.key');
  if (!cert || !key || cert.length > MAX_PEM_CHARS.cert || key.length > MAX_PEM_CHARS.key) return undefined;
  return { namespace, name, cert, key };
}

/**
 * What `node` gets of the cluster's Ingresses (nothing when it serves no Ingress port). Keys only
 * when the operator allowed them (`keysAllowed`: `skiff control-plane --ingress-keys-to-agents`):
 * a node reports its own ports, so without that opt-in any node identity could ask for every
 * Ingress's private key by claiming a TLS port.
 */
export async function nodeIngress(resources: ResourceStore, node: Pick<Node, 'metadata'> | undefined, keysAllowed: boolean): Promise<NodeIngress> {
  const ports = node && ingressPortsOf(node);
  if (!ports) return { secretRefs: [] };
  const [ingresses, classes] = await Promise.all([
    resources.list<Ingress>(resourceTypes.ingresses),
    resources.list<IngressClass>(resourceTypes.ingressclasses),
  ]);
  const ours = skiffIngresses(ingresses.items, classes.items).filter((i) => !i.metadata.deletionTimestamp)
    .sort((a, b) => (`${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1));
  const entries = ours.map(ingressEntry);
  if (!ports.https || !keysAllowed) return { ingress: { ingresses: entries }, secretRefs: [] };
  const named = [...new Set(entries.flatMap((e) => (e.tls ?? []).map((t) => `${e.namespace}/${t.secretName}`)))].sort();
  const certificates: DesiredIngressCertificate[] = [];
  for (const key of named) {
    const [namespace, name] = key.split('/') as [string, string];
    const c = await certificate(resources, namespace, name);
    if (c) certificates.push(c);
  }
  return { ingress: { ingresses: entries, certificates }, secretRefs: named.map((k) => `secrets/${k}`) };
}

/** The nodes that serve Ingress, from the Node events: which to republish when Ingresses change. */
export class IngressNodes {
  /** node -> its ingress-ports annotation */
  readonly #ports = new Map<string, string>();

  constructor(private readonly requeue: (node: string) => void) {}

  /** A Node event: a node whose Ingress ports changed (it started or stopped serving, or got a TLS port) is republished. */
  nodeChanged(deleted: boolean, node: Pick<Node, 'metadata'>): void {
    const name = node.metadata.name!;
    const ports = deleted ? undefined : node.metadata.annotations?.[INGRESS_PORTS_ANNOTATION];
    if (ports === this.#ports.get(name)) return;
    if (ports === undefined) this.#ports.delete(name);
    else this.#ports.set(name, ports);
    if (!deleted) this.requeue(name);
  }

  /** An Ingress or IngressClass changed: every node that serves Ingress is republished. */
  ingressChanged(): void {
    for (const node of this.#ports.keys()) this.requeue(node);
  }
}
