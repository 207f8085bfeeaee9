// How an update's body becomes the next stored object: which parts the main resource and each subresource own.
import type { KubeObject } from '../../api/types/meta.js';
import type { Namespace } from '../../api/types/node.js';
import { hasStatusSubresource, resourceTypes, type ResourceType } from './resource-types.js';
import type { Pod } from '../../api/types/pod.js';
import { sameJson } from './same-json.js';

/** Metadata the server owns: never taken from an update body. */
const serverOwnedMeta = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'name'] as const;

/** What an update writes: the object (`undefined`), or only one part of it through a subresource. */
export type UpdateSubresource = 'status' | 'finalize' | 'binding';

/**
 * The next stored object. Neither `current` nor `incoming` is changed; `incoming` is copied unless
 * `owned` (the caller built it for this write alone). Parts of `current` that the update keeps are
 * shared with the result, except where defaulting may write (the main resource's status).
 */
export function mergeForUpdate<T extends KubeObject>(type: ResourceType, current: T, incoming: T, subresource?: UpdateSubresource, owned = false): T {
  const copy = <V>(v: V): V => (owned || v === undefined ? v : structuredClone(v));
  if (subresource === 'status') {
    const next: KubeObject = { ...current, metadata: { ...current.metadata } };
    if (incoming['status'] === undefined) delete next['status'];
    else next['status'] = copy(incoming['status']);
    return next as T;
  }
  if (subresource === 'finalize') {
    const ns = current as unknown as Namespace;
    return { ...ns, metadata: { ...ns.metadata }, spec: { ...ns.spec, finalizers: [...((incoming as unknown as Namespace).spec?.finalizers ?? [])] } } as unknown as T;
  }
  if (subresource === 'binding') return bindingOf(type, current, incoming, copy);
  const next: KubeObject = copy(incoming);
  next.apiVersion = type.apiVersion;
  next.kind = type.kind;
  next.metadata = { ...next.metadata };
  for (const f of serverOwnedMeta) {
    if (current.metadata[f] === undefined) delete next.metadata[f];
    else (next.metadata as Record<string, unknown>)[f] = current.metadata[f];
  }
  if (hasStatusSubresource(type)) {
    if (current['status'] === undefined) delete next['status'];
    else next['status'] = structuredClone(current['status']);
  }
  if (type.plural === 'namespaces') {
    // Namespace finalizers change only through the finalize subresource.
    (next as unknown as Namespace).spec = { ...(next as unknown as Namespace).spec, finalizers: (current as unknown as Namespace).spec?.finalizers ?? [] };
  }
  return next as T;
}

/** The part of an update body a subresource writes (what mergeForUpdate takes from it); the whole body without one. */
export function writtenPart(incoming: KubeObject, subresource: UpdateSubresource | undefined): KubeObject {
  const base = { apiVersion: incoming.apiVersion, kind: incoming.kind, metadata: { name: incoming.metadata?.name } };
  const spec = incoming['spec'] as Record<string, unknown> | undefined;
  switch (subresource) {
    case 'status': return { ...base, status: incoming['status'] };
    case 'finalize': return { ...base, spec: { finalizers: spec?.['finalizers'] } };
    case 'binding': return { ...base, metadata: { ...base.metadata, annotations: incoming.metadata?.annotations }, spec: { nodeName: spec?.['nodeName'] }, status: incoming['status'] };
    default: return incoming;
  }
}

/**
 * A pod's binding as kube's pods/binding storage writes it: spec.nodeName, the annotations and the
 * status (the PodScheduled condition) in one write; everything else stays as stored.
 */
function bindingOf<T extends KubeObject>(type: ResourceType, current: T, incoming: T, copy: <V>(v: V) => V): T {
  if (type !== resourceTypes.pods) throw new Error(`${type.plural} have no binding subresource`);
  const pod = current as unknown as Pod;
  const wanted = incoming as unknown as Pod;
  const annotations = copy(wanted.metadata.annotations);
  const next = {
    ...pod,
    metadata: { ...pod.metadata, ...(annotations ? { annotations } : {}) },
    spec: { ...pod.spec, nodeName: wanted.spec?.nodeName },
    status: copy(wanted.status),
  };
  if (!annotations) delete next.metadata.annotations;
  return next as unknown as T;
}

/** Whether anything outside metadata and status differs (that bumps metadata.generation). */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = ({ metadata: _m, status: _s, ...rest }: KubeObject) => rest;
  return !sameJson(strip(a), strip(b));
}
