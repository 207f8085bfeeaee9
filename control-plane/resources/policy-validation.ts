// Validation and defaulting of ResourceQuota, LimitRange and PodDisruptionBudget (core and policy
// ValidateXxx, SetDefaults_LimitRangeItem).
import type { StatusCause } from '../../api/errors.js';
import { invalid, notSupported, required } from './field-causes.js';
import type { LimitRange, PodDisruptionBudget, ResourceList, ResourceQuota } from './kinds/policy.js';
import { checkQualifiedName } from './name-validation.js';
import { parseQuantity } from './quantity.js';
import { validateLabelSelector } from './selector-object.js';
import { validateIntOrPercent } from './workload-validation.js';

function validateResourceList(list: ResourceList | undefined, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [name, value] of Object.entries(list ?? {})) {
    for (const msg of checkQualifiedName(name)) causes.push(invalid(`${field}[${name}]`, name, msg));
    const q = parseQuantity(String(value));
    if (q === undefined) causes.push(invalid(`${field}[${name}]`, value, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else if (q < 0) causes.push(invalid(`${field}[${name}]`, value, 'must be greater than or equal to 0'));
  }
  return causes;
}

const SCOPE_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];

export function validateResourceQuota(q: ResourceQuota): StatusCause[] {
  const causes = [...validateResourceList(q.spec?.hard, 'spec.hard'), ...validateResourceList(q.status?.hard, 'status.hard'), ...validateResourceList(q.status?.used, 'status.used')];
  (q.spec?.scopes ?? []).forEach((s, i) => { if (!QUOTA_SCOPES.includes(s)) causes.push(notSupported(`spec.scopes[${i}]`, s, QUOTA_SCOPES)); });
  const selector = q.spec?.scopeSelector as { matchExpressions?: Array<{ scopeName?: string; operator?: string; values?: string[] }> } | undefined;
  (selector?.matchExpressions ?? []).forEach((e, i) => {
    const at = `spec.scopeSelector.matchExpressions[${i}]`;
    if (!QUOTA_SCOPES.includes(e.scopeName ?? '')) causes.push(notSupported(`${at}.scopeName`, e.scopeName ?? '', QUOTA_SCOPES));
    if (!SCOPE_OPERATORS.includes(e.operator ?? '')) causes.push(notSupported(`${at}.operator`, e.operator ?? '', SCOPE_OPERATORS));
    else if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) {
      causes.push(required(`${at}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length) {
      causes.push(invalid(`${at}.values`, e.values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    }
    if (['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort'].includes(e.scopeName ?? '') && e.operator !== 'Exists') {
      causes.push(invalid(`${at}.operator`, e.operator ?? '', 'must be \'Exist\' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity'));
    }
  });
  return causes;
}

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];

export function defaultLimitRange(lr: LimitRange): void {
  for (const item of Array.isArray(lr.spec?.limits) ? lr.spec.limits : []) {
    if (!item || typeof item !== 'object' || item.type !== 'Container') continue;
    const def = (item.default ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
    const request = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(def)) request[k] ??= v;
    for (const [k, v] of Object.entries(item.min ?? {})) request[k] ??= v;
    if (!Object.keys(def).length) delete item.default;
    if (!Object.keys(request).length) delete item.defaultRequest;
  }
}

export function validateLimitRange(lr: LimitRange): StatusCause[] {
  const limits = lr.spec?.limits;
  if (!Array.isArray(limits)) return [required('spec.limits')];
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  limits.forEach((item, i) => {
    const field = `spec.limits[${i}]`;
    if (!LIMIT_TYPES.includes(item?.type)) { causes.push(notSupported(`${field}.type`, item?.type ?? '', LIMIT_TYPES)); return; }
    if (seen.has(item.type)) causes.push(invalid(`${field}.type`, item.type, 'must be unique'));
    seen.add(item.type);
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) causes.push(...validateResourceList(item[key], `${field}.${key}`));
    if (item.type !== 'Container') {
      if (item.default) causes.push(invalid(`${field}.default`, item.default, 'may not be specified when `type` is not \'Container\''));
      if (item.defaultRequest) causes.push(invalid(`${field}.defaultRequest`, item.defaultRequest, 'may not be specified when `type` is not \'Container\''));
    }
    const q = (list: ResourceList | undefined, k: string) => (list?.[k] !== undefined ? parseQuantity(String(list[k])) : undefined);
    const names = new Set([...Object.keys(item.max ?? {}), ...Object.keys(item.min ?? {}), ...Object.keys(item.default ?? {}), ...Object.keys(item.defaultRequest ?? {})]);
    for (const k of names) {
      const [max, min, def, req] = [q(item.max, k), q(item.min, k), q(item.default, k), q(item.defaultRequest, k)];
      if (min !== undefined && max !== undefined && min > max) causes.push(invalid(`${field}.min[${k}]`, item.min![k], `min value ${item.min![k]} is greater than max value ${item.max![k]}`));
      if (req !== undefined && max !== undefined && req > max) causes.push(invalid(`${field}.defaultRequest[${k}]`, item.defaultRequest![k], `default request value ${item.defaultRequest![k]} is greater than max value ${item.max![k]}`));
      if (req !== undefined && min !== undefined && req < min) causes.push(invalid(`${field}.defaultRequest[${k}]`, item.defaultRequest![k], `min value ${item.min![k]} is greater than default request value ${item.defaultRequest![k]}`));
      if (def !== undefined && max !== undefined && def > max) causes.push(invalid(`${field}.default[${k}]`, item.default![k], `default value ${item.default![k]} is greater than max value ${item.max![k]}`));
      if (def !== undefined && min !== undefined && def < min) causes.push(invalid(`${field}.default[${k}]`, item.default![k], `min value ${item.min![k]} is greater than default value ${item.default![k]}`));
      if (req !== undefined && def !== undefined && req > def) causes.push(invalid(`${field}.defaultRequest[${k}]`, item.defaultRequest![k], `default request value ${item.defaultRequest![k]} is greater than default limit value ${item.default![k]}`));
    }
    for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
      const ratio = parseQuantity(String(v));
      if (ratio !== undefined && ratio < 1) causes.push(invalid(`${field}.maxLimitRequestRatio[${k}]`, v, `ratio ${v} is less than 1`));
    }
  });
  return causes;
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): StatusCause[] {
  const spec = pdb.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes: StatusCause[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    causes.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  causes.push(...validateIntOrPercent('spec.minAvailable', spec.minAvailable), ...validateIntOrPercent('spec.maxUnavailable', spec.maxUnavailable));
  if (spec.selector) causes.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policies = ['IfHealthyBudget', 'AlwaysAllow'];
  if (spec.unhealthyPodEvictionPolicy !== undefined && !policies.includes(spec.unhealthyPodEvictionPolicy)) {
    causes.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, policies));
  }
  return causes;
}
