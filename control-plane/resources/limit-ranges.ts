// LimitRanger, as the admission plugin does it: a pod's containers get the namespace's default limits
// and requests where they set none (noted in the kubernetes.io/limit-ranger annotation), then every
// Container, Pod and PersistentVolumeClaim item's min, max and maxLimitRequestRatio are enforced.
import type { Container, Pod } from '../../api/types/pod.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { LimitRange, ResourceList } from './kinds/policy.js';
import { quantityValue as parseQuantity } from '../../api/quantity.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

const containersOf = (pod: Pod): Container[] => [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
const value = (list: ResourceList | undefined, k: string): number | undefined => {
  const v = list?.[k];
  return v === undefined ? undefined : parseQuantity(String(v));
};

/** Sets default requests and limits from the Container items (mutates the pod). */
export function applyLimitRangeDefaults(pod: Pod, ranges: readonly LimitRange[]): void {
  const notes: string[] = [];
  for (const lr of ranges) {
    for (const item of lr.spec?.limits ?? []) {
      if (item.type !== 'Container') continue;
      for (const c of containersOf(pod)) {
        const setRequests: string[] = [];
        const setLimits: string[] = [];
        const resources = (c.resources ??= {});
        for (const [k, v] of Object.entries(item.default ?? {})) {
          if (resources.limits?.[k] === undefined) { (resources.limits ??= {})[k] = v; setLimits.push(k); }
        }
        for (const [k, v] of Object.entries(item.defaultRequest ?? {})) {
          if (resources.requests?.[k] === undefined) { (resources.requests ??= {})[k] = v; setRequests.push(k); }
        }
        const what = pod.spec.initContainers?.includes(c) ? 'init container' : 'container';
        if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${what} ${c.name}`);
        if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${what} ${c.name}`);
      }
    }
  }
  if (notes.length) pod.metadata.annotations = { ...pod.metadata.annotations, [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
}

function checkBounds(kind: string, item: LimitRange['spec']['limits'][number], requests: ResourceList, limits: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, min] of Object.entries(item.min ?? {})) {
    const m = parseQuantity(String(min))!;
    const req = value(requests, k);
    const lim = value(limits, k);
    if (req === undefined) out.push(`minimum ${k} usage per ${kind} is ${min}.  No request is specified`);
    else if (req < m) out.push(`minimum ${k} usage per ${kind} is ${min}, but request is ${requests[k]}`);
    if (lim !== undefined && lim < m) out.push(`minimum ${k} usage per ${kind} is ${min}, but limit is ${limits[k]}`);
  }
  for (const [k, max] of Object.entries(item.max ?? {})) {
    const m = parseQuantity(String(max))!;
    const lim = value(limits, k);
    if (lim === undefined) out.push(`maximum ${k} usage per ${kind} is ${max}.  No limit is specified`);
    else if (lim > m) out.push(`maximum ${k} usage per ${kind} is ${max}, but limit is ${limits[k]}`);
  }
  for (const [k, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const r = parseQuantity(String(ratio))!;
    const req = value(requests, k);
    const lim = value(limits, k);
    if (lim === undefined) out.push(`${k} max limit to request ratio per ${kind} is ${ratio}, but no limit is specified`);
    else if (!req) out.push(`${k} max limit to request ratio per ${kind} is ${ratio}, but no request is specified or request is 0`);
    else if (lim / req > r) out.push(`${k} max limit to request ratio per ${kind} is ${ratio}, but provided ratio is ${(lim / req).toFixed(6)}`);
  }
  return out;
}

const sumOf = (lists: ResourceList[]): ResourceList => {
  const totals: Record<string, number> = {};
  for (const l of lists) for (const [k, v] of Object.entries(l)) totals[k] = (totals[k] ?? 0) + (parseQuantity(String(v)) ?? 0);
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, String(v)]));
};

/** Violations of the ranges by a pod (after defaulting), worded like LimitRanger's. */
export function podLimitViolations(pod: Pod, ranges: readonly LimitRange[]): string[] {
  const out: string[] = [];
  for (const lr of ranges) {
    for (const item of lr.spec?.limits ?? []) {
      if (item.type === 'Container') {
        for (const c of containersOf(pod)) out.push(...checkBounds('Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {}));
      } else if (item.type === 'Pod') {
        const containers = containersOf(pod);
        out.push(...checkBounds('Pod', item, sumOf(containers.map((c) => c.resources?.requests ?? {})), sumOf(containers.map((c) => c.resources?.limits ?? {}))));
      }
    }
  }
  return out;
}

export function claimLimitViolations(pvc: PersistentVolumeClaim, ranges: readonly LimitRange[]): string[] {
  const out: string[] = [];
  for (const lr of ranges) {
    for (const item of lr.spec?.limits ?? []) {
      if (item.type !== 'PersistentVolumeClaim') continue;
      const requests = pvc.spec?.resources?.requests ?? {};
      const found = checkBounds('PersistentVolumeClaim', { ...item, maxLimitRequestRatio: {} }, requests, requests)
        .map((m) => m.replace(', but limit is', ', but request is').replace('No limit is specified', 'No request is specified'));
      out.push(...new Set(found));
    }
  }
  return out;
}
