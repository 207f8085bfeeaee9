// core/v1 ReplicationController (old manifests): defaulting and validation as the real server does
// them (the selector defaults to the template's labels, which must match it), and the ReplicaSet
// view the ReplicaSet controller and the scale subresource work on (selector as matchLabels).
import type { StatusCause } from '../../api/errors.js';
import { invalid, required } from './field-causes.js';
import type { ReplicaSet, ReplicationController } from './kinds/workloads.js';
import { validateLabels } from './metadata-validation.js';
import { defaultTemplate } from './workload-defaults.js';
import { nonNegative, validateTemplate } from './workload-validation.js';

export function defaultReplicationController(rc: ReplicationController): void {
  const spec = (rc.spec ??= {});
  if (!spec || typeof spec !== 'object') return;
  spec.replicas ??= 1;
  const labels = spec.template?.metadata?.labels;
  if ((!spec.selector || !Object.keys(spec.selector).length) && labels && typeof labels === 'object') spec.selector = { ...labels };
  if (!rc.metadata.labels || !Object.keys(rc.metadata.labels).length) {
    if (labels && typeof labels === 'object') rc.metadata.labels = { ...labels };
  }
  defaultTemplate(spec.template);
}

export function validateReplicationController(rc: ReplicationController): StatusCause[] {
  const spec = rc.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = [...nonNegative('spec.replicas', spec.replicas), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds)];
  const selector = spec.selector ?? {};
  if (!Object.keys(selector).length) causes.push(required('spec.selector'));
  causes.push(...validateLabels(selector, 'spec.selector'));
  const template = spec.template;
  if (!template || typeof template !== 'object') return [...causes, required('spec.template')];
  const labels = template.metadata?.labels ?? {};
  causes.push(...validateLabels(labels, 'spec.template.metadata.labels'));
  if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) {
    causes.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  causes.push(...validateTemplate(template, ['Always']));
  return causes;
}

/** The ReplicaSet shape of a ReplicationController (its selector as matchLabels), keeping apiVersion and kind. */
export function replicaSetView(rc: ReplicationController): ReplicaSet {
  return { ...rc, spec: { ...rc.spec, selector: { matchLabels: { ...rc.spec?.selector } }, template: rc.spec?.template ?? {} } } as unknown as ReplicaSet;
}
