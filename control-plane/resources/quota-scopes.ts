// Which objects a ResourceQuota tracks, by its scopes and scopeSelector (the quota evaluator's
// matchesScope): Terminating (activeDeadlineSeconds set) / NotTerminating, BestEffort (no cpu or
// memory requests or limits in any container) / NotBestEffort, PriorityClass (In, NotIn, Exists,
// DoesNotExist over spec.priorityClassName). A scoped quota tracks pods only.
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import type { ResourceQuota } from './kinds/policy.js';
import { resourceTypes, type ResourceType } from './resource-types.js';

export interface ScopeRequirement { scopeName: string; operator: string; values?: string[] }

function isBestEffort(pod: Pod): boolean {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every((c) => {
    const { requests = {}, limits = {} } = c?.resources ?? {};
    return !['cpu', 'memory'].some((r) => requests[r] !== undefined || limits[r] !== undefined);
  });
}

/** The quota's scopes as requirements (plain scopes are Exists). */
export function scopeRequirements(quota: ResourceQuota): ScopeRequirement[] {
  const plain = (quota.spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists' }));
  const selector = (quota.spec?.scopeSelector as { matchExpressions?: ScopeRequirement[] } | undefined)?.matchExpressions ?? [];
  return [...plain, ...(Array.isArray(selector) ? selector : [])];
}

function podMatches(req: ScopeRequirement, pod: Pod): boolean {
  const deadline = pod.spec?.['activeDeadlineSeconds'];
  switch (req.scopeName) {
    case 'Terminating': return typeof deadline === 'number' && deadline >= 0;
    case 'NotTerminating': return !(typeof deadline === 'number' && deadline >= 0);
    case 'BestEffort': return isBestEffort(pod);
    case 'NotBestEffort': return !isBestEffort(pod);
    case 'PriorityClass': {
      const name = typeof pod.spec?.['priorityClassName'] === 'string' ? pod.spec['priorityClassName'] as string : '';
      switch (req.operator) {
        case 'In': return (req.values ?? []).includes(name);
        case 'NotIn': return !(req.values ?? []).includes(name);
        case 'Exists': return name !== '';
        case 'DoesNotExist': return name === '';
        default: return false;
      }
    }
    case 'CrossNamespacePodAffinity': return false; // skiff has no cross-namespace affinity terms
    default: return false;
  }
}

/** Whether `quota` counts `obj` (of `type`): unscoped quotas count everything, scoped ones matching pods. */
export function quotaTracks(quota: ResourceQuota, type: ResourceType, obj: KubeObject): boolean {
  const reqs = scopeRequirements(quota);
  if (!reqs.length) return true;
  return type === resourceTypes.pods && reqs.every((r) => podMatches(r, obj as Pod));
}
