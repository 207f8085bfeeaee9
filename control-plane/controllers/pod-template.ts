// Pods from templates: the pod a controller creates, the template hash (pod-template-hash,
// controller-revision-hash) and template equality that ignores nulls and empty values, so the
// template `kubectl rollout undo` sends back (creationTimestamp: null, resources: {}) matches.
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import { stableStringify } from '../resources/stable-stringify.js';
import { newControllerRef } from './controller-ref.js';
import type { PodTemplateSpec } from './workload-kinds.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function podFromTemplate(owner: KubeObject, template: PodTemplateSpec, extra: { generateName?: string; labels?: Record<string, string>; nodeName?: string } = {}): Pod {
  const t = structuredClone(template);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: extra.generateName ?? `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace!,
      labels: { ...t.metadata?.labels, ...extra.labels },
      ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: { ...t.spec, ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
  return pod;
}

/** Drops nulls, undefined, empty strings/arrays/objects recursively (what defaulting or clients may add or omit). */
export function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpty).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value === null || value === '') return undefined;
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const w = withoutEmpty(v);
    if (w !== undefined) out[k] = w;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A template without the hash labels its controller added. */
function comparable(template: PodTemplateSpec): unknown {
  const t = structuredClone(template);
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
    delete t.metadata.labels['controller-revision-hash'];
  }
  return withoutEmpty(t);
}

export function templatesEqual(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return stableStringify(comparable(a)) === stableStringify(comparable(b));
}

/** FNV-1a (32 bit) of the template, like Kubernetes' ComputeHash, in its "safe" alphabet. */
export function templateHash(template: PodTemplateSpec, collisionCount = 0): string {
  const text = stableStringify(comparable(template)) + (collisionCount ? String(collisionCount) : '');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  let n = h;
  do {
    out += SAFE_ALPHABET[n % SAFE_ALPHABET.length];
    n = Math.floor(n / SAFE_ALPHABET.length);
  } while (n > 0);
  return out;
}

/** Resolves an int-or-percent against `total` (rounding up for surge, down for unavailable). */
export function resolveIntOrPercent(value: number | string | undefined, total: number, roundUp: boolean, fallback: number | string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
