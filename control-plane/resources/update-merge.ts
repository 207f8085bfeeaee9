// How an update's body becomes the next stored object: which parts the main resource and each subresource own.
import type { KubeObject } from '../../api/types/meta.js';
import type { Namespace } from '../../api/types/node.js';
import { hasStatusSubresource, type ResourceType } from './resource-types.js';
import { stableStringify } from './stable-stringify.js';

/** Metadata the server owns: never taken from an update body. */
const serverOwnedMeta = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'name'] as const;

export function mergeForUpdate<T extends KubeObject>(type: ResourceType, current: T, incoming: T, subresource?: 'status' | 'finalize'): T {
  if (subresource === 'status') {
    const next: KubeObject = structuredClone(current);
    if (incoming['status'] === undefined) delete next['status'];
    else next['status'] = structuredClone(incoming['status']);
    return next as T;
  }
  if (subresource === 'finalize') {
    const next = structuredClone(current) as unknown as Namespace;
    next.spec = { ...next.spec, finalizers: [...((incoming as unknown as Namespace).spec?.finalizers ?? [])] };
    return next as unknown as T;
  }
  const next: KubeObject = structuredClone(incoming);
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

/** Whether anything outside metadata and status differs (that bumps metadata.generation). */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = ({ metadata: _m, status: _s, ...rest }: KubeObject) => rest;
  return stableStringify(strip(a)) !== stableStringify(strip(b));
}
