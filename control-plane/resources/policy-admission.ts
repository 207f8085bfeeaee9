// Namespace policy admission on create, as the LimitRanger and ResourceQuota plugins do it: default
// requests/limits from LimitRanges (before validation), then LimitRange bounds and quota checks
// (after it), refused with 403 Forbidden worded like the real server's. Quota usage is counted from
// the live objects at admission (not from status, which the quota controller keeps for display).
import { ForbiddenError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { LimitRange, ResourceQuota } from './kinds/policy.js';
import { applyLimitRangeDefaults, claimLimitViolations, podLimitViolations } from './limit-ranges.js';
import { formatAmount, quotaAmount, totalUsage, typeForQuotaKey, usageOf } from './quota-usage.js';
import { quotaTracks } from './quota-scopes.js';
import { resourceTypes, type ResourceType } from './resource-types.js';

export type NamespaceLister = (type: ResourceType, namespace: string) => Promise<KubeObject[]>;

/** 403 as admission plugins word it: `pods "x" is forbidden: ...`. */
export const forbidden = (type: ResourceType, obj: KubeObject, message: string) =>
  new ForbiddenError(`${type.group ? `${type.plural}.${type.group}` : type.plural} "${obj.metadata.name ?? ''}" is forbidden: ${message}`,
    { kind: type.plural, ...(type.group ? { group: type.group } : {}), ...(obj.metadata.name ? { name: obj.metadata.name } : {}) });

/** LimitRanger's mutating half: default requests and limits of a new pod's containers. */
export async function applyNamespaceDefaults(type: ResourceType, obj: KubeObject, list: NamespaceLister): Promise<void> {
  if (type !== resourceTypes.pods || !obj.metadata.namespace) return;
  const ranges = (await list(resourceTypes.limitranges, obj.metadata.namespace)) as LimitRange[];
  if (ranges.length) applyLimitRangeDefaults(obj as Pod, ranges);
}

const MUST_SPECIFY = ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory', 'cpu', 'memory'];

/** LimitRanger's validating half and ResourceQuota: throws 403 when the new object breaks either. */
export async function enforceNamespacePolicies(type: ResourceType, obj: KubeObject, list: NamespaceLister): Promise<void> {
  const namespace = obj.metadata.namespace;
  if (!namespace || (type !== resourceTypes.pods && type !== resourceTypes.persistentvolumeclaims && !type.namespaced)) return;
  if (type === resourceTypes.pods || type === resourceTypes.persistentvolumeclaims) {
    const ranges = (await list(resourceTypes.limitranges, namespace)) as LimitRange[];
    const violations = type === resourceTypes.pods ? podLimitViolations(obj as Pod, ranges) : claimLimitViolations(obj as PersistentVolumeClaim, ranges);
    if (violations.length) throw forbidden(type, obj, `[${violations.join(', ')}]`);
  }
  const quotas = (await list(resourceTypes.resourcequotas, namespace)) as ResourceQuota[];
  if (!quotas.length) return;
  const delta = usageOf(type, obj);
  const loaded = new Map<ResourceType, KubeObject[]>();
  for (const quota of [...quotas].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    if (!quotaTracks(quota, type, obj)) continue;
    const hard = quota.spec?.hard ?? {};
    if (type === resourceTypes.pods) {
      const missing = MUST_SPECIFY.filter((k) => k in hard).map((k) => {
        const [field, resource] = k.includes('.') ? k.split('.') as ['limits' | 'requests', string] : ['requests' as const, k];
        const lacking = [...((obj as Pod).spec.initContainers ?? []), ...(obj as Pod).spec.containers]
          .filter((c) => c.resources?.[field]?.[resource] === undefined && !(field === 'requests' && c.resources?.limits?.[resource] !== undefined));
        return lacking.length ? `${k} for: ${lacking.map((c) => c.name).join(',')}` : '';
      }).filter(Boolean);
      if (missing.length) throw forbidden(type, obj, `failed quota: ${quota.metadata.name}: must specify ${missing.join('; ')}`);
    }
    const keys = Object.keys(hard).filter((k) => (delta[k] ?? 0) > 0).sort();
    if (!keys.length) continue;
    const objects: Array<{ type: ResourceType; obj: KubeObject }> = [];
    for (const t of new Set(keys.map(typeForQuotaKey).filter((t): t is ResourceType => t !== undefined))) {
      if (!loaded.has(t)) loaded.set(t, await list(t, namespace));
      for (const o of loaded.get(t)!) if (!(t === type && o.metadata.name === obj.metadata.name) && quotaTracks(quota, t, o)) objects.push({ type: t, obj: o });
    }
    const used = totalUsage(keys, objects);
    const over = keys.filter((k) => used[k]! + delta[k]! > quotaAmount(k, String(hard[k])));
    if (!over.length) continue;
    const show = (f: (k: string) => string) => over.map((k) => `${k}=${f(k)}`).join(',');
    throw forbidden(type, obj, `exceeded quota: ${quota.metadata.name}, requested: ${show((k) => formatAmount(k, delta[k]!))}, `
      + `used: ${show((k) => formatAmount(k, used[k]!))}, limited: ${show((k) => String(hard[k]))}`);
  }
}
