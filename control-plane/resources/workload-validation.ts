// Validation of Deployments, ReplicaSets, DaemonSets, Jobs and ControllerRevisions (apps and batch ValidateXxx).
import type { StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import { forbidden, invalid, notSupported, required } from './field-causes.js';
import type { ControllerRevision, DaemonSet, Deployment, Job, LabelSelector, PodTemplateSpec, ReplicaSet } from './kinds/workloads.js';
import { validateLabels } from './metadata-validation.js';
import { validatePod } from './pod-validation.js';
import { isEmptyLabelSelector, matchesLabelSelector, validateLabelSelector } from './selector-object.js';
import { stableStringify } from './stable-stringify.js';

export const nonNegative = (field: string, value: unknown): StatusCause[] =>
  value === undefined ? [] : typeof value === 'number' && Number.isInteger(value) && value >= 0 ? [] : [invalid(field, value, 'must be greater than or equal to 0')];

/** Selector present, non-empty, valid, and matching the template's labels; then the template itself. */
export function validateSelectedTemplate(kind: string, selector: LabelSelector | undefined, template: PodTemplateSpec | undefined,
  restartPolicies: string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!selector) causes.push(required('spec.selector'));
  else {
    causes.push(...validateLabelSelector(selector, 'spec.selector'));
    if (isEmptyLabelSelector(selector)) causes.push(invalid('spec.selector', selector, `empty selector is invalid for ${kind}`));
  }
  if (!template || typeof template !== 'object') return [...causes, required('spec.template')];
  const labels = template.metadata?.labels;
  causes.push(...validateLabels(labels, 'spec.template.metadata.labels'));
  if (selector && !isEmptyLabelSelector(selector) && !matchesLabelSelector(selector, labels)) {
    causes.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
  causes.push(...validateTemplate(template, restartPolicies));
  return causes;
}

/** The pod spec checks, with field paths under spec.template. */
export function validateTemplate(template: PodTemplateSpec, restartPolicies: string[]): StatusCause[] {
  const causes: StatusCause[] = validatePod({ apiVersion: 'v1', kind: 'Pod', metadata: template.metadata ?? {}, spec: template.spec } as Pod)
    .map((c) => (c.field ? { ...c, field: c.field.replace(/^spec\b/, 'spec.template.spec') } : c));
  const policy = template.spec?.restartPolicy;
  if (template.spec && policy !== undefined && !restartPolicies.includes(policy)) {
    causes.push(notSupported('spec.template.spec.restartPolicy', policy, restartPolicies));
  }
  if (template.spec?.['activeDeadlineSeconds'] !== undefined && restartPolicies.includes('Always')) {
    causes.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return causes;
}

export function validateIntOrPercent(field: string, value: unknown): StatusCause[] {
  if (value === undefined) return [];
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? [] : [invalid(field, value, 'must be greater than or equal to 0')];
  if (typeof value === 'string' && /^\d+%$/.test(value)) {
    return Number.parseInt(value, 10) > 100 ? [invalid(field, value, 'must not be greater than 100%')] : [];
  }
  return [invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
}

const isZero = (v: unknown) => v === 0 || v === '0%';

export function validateDeployment(d: Deployment): StatusCause[] {
  const spec = d.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = [...nonNegative('spec.replicas', spec.replicas), ...validateSelectedTemplate('deployment', spec.selector, spec.template, ['Always'])];
  const strategy = spec.strategy;
  const types = ['Recreate', 'RollingUpdate'];
  if (strategy?.type !== undefined && !types.includes(strategy.type)) causes.push(notSupported('spec.strategy.type', strategy.type, types));
  if (strategy?.type === 'Recreate' && strategy.rollingUpdate) {
    causes.push(forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
  }
  const ru = strategy?.rollingUpdate;
  if (strategy?.type === 'RollingUpdate' && ru) {
    causes.push(...validateIntOrPercent('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
    causes.push(...validateIntOrPercent('spec.strategy.rollingUpdate.maxSurge', ru.maxSurge));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      causes.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  causes.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
    causes.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return causes;
}

export function validateReplicaSet(rs: ReplicaSet): StatusCause[] {
  const spec = rs.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  return [...nonNegative('spec.replicas', spec.replicas), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateSelectedTemplate('replicaset', spec.selector, spec.template, ['Always'])];
}

export function validateDaemonSet(ds: DaemonSet): StatusCause[] {
  const spec = ds.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = validateSelectedTemplate('daemonset', spec.selector, spec.template, ['Always']);
  const types = ['OnDelete', 'RollingUpdate'];
  const t = spec.updateStrategy?.type;
  if (t !== undefined && !types.includes(t)) causes.push(notSupported('spec.updateStrategy.type', t, types));
  const ru = spec.updateStrategy?.rollingUpdate;
  if (t === 'RollingUpdate' && ru) {
    causes.push(...validateIntOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
    causes.push(...validateIntOrPercent('spec.updateStrategy.rollingUpdate.maxSurge', ru.maxSurge));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      causes.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  causes.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  return causes;
}

export function validateJob(job: Job): StatusCause[] {
  const spec = job.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = [
    ...nonNegative('spec.parallelism', spec.parallelism), ...nonNegative('spec.completions', spec.completions),
    ...nonNegative('spec.backoffLimit', spec.backoffLimit), ...nonNegative('spec.ttlSecondsAfterFinished', spec.ttlSecondsAfterFinished),
    ...validateSelectedTemplate('job', spec.selector, spec.template, ['OnFailure', 'Never']),
  ];
  if (spec.activeDeadlineSeconds !== undefined && !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)) {
    causes.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than 0'));
  }
  const modes = ['NonIndexed', 'Indexed'];
  if (spec.completionMode !== undefined && !modes.includes(spec.completionMode)) causes.push(notSupported('spec.completionMode', spec.completionMode, modes));
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) {
    causes.push(required('spec.completions', 'when completion mode is Indexed'));
  }
  return causes;
}

export function validateControllerRevision(cr: ControllerRevision): StatusCause[] {
  const causes = nonNegative('revision', cr.revision);
  if (cr.revision === undefined) causes.push(required('revision'));
  return causes;
}

/** Selector immutability (apps/v1 and batch/v1); for Jobs also the template and completions. */
export function validateWorkloadUpdate(plural: string, oldObj: KubeObject, newObj: KubeObject): StatusCause[] {
  const o = (oldObj['spec'] ?? {}) as Record<string, unknown>;
  const n = (newObj['spec'] ?? {}) as Record<string, unknown>;
  const causes: StatusCause[] = [];
  const immutable = (field: string) => {
    if (stableStringify(o[field] ?? null) !== stableStringify(n[field] ?? null)) causes.push(invalid(`spec.${field}`, n[field] ?? null, 'field is immutable'));
  };
  immutable('selector');
  if (plural === 'jobs') {
    immutable('completionMode');
    // The template may change only while the Job is suspended (scheduling directives), as Kubernetes allows.
    if (!(o['suspend'] === true)) immutable('template');
    if (stableStringify(o['completions'] ?? null) !== stableStringify(n['completions'] ?? null) && n['completionMode'] !== 'Indexed') {
      immutable('completions');
    }
  }
  return causes;
}
