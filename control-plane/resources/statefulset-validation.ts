// Validation of apps/v1 StatefulSets (ValidateStatefulSet and ValidateStatefulSetUpdate).
import type { StatusCause } from '../../api/errors.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { StatefulSet } from './kinds/statefulsets.js';
import { validatePersistentVolumeClaim } from './config-validation.js';
import { forbidden, invalid, notSupported, required } from './field-causes.js';
import { checkDns1123Subdomain } from './name-validation.js';
import { stableStringify } from './stable-stringify.js';
import { nonNegative, validateIntOrPercent, validateSelectedTemplate } from './workload-validation.js';

export function validateStatefulSet(sts: StatefulSet): StatusCause[] {
  const spec = sts.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = [
    ...nonNegative('spec.replicas', spec.replicas), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit), ...nonNegative('spec.ordinals.start', spec.ordinals?.start),
    ...validateSelectedTemplate('statefulset', spec.selector, spec.template, ['Always']),
  ];
  const policies = ['OrderedReady', 'Parallel'];
  if (spec.podManagementPolicy !== undefined && !policies.includes(spec.podManagementPolicy)) {
    causes.push(notSupported('spec.podManagementPolicy', spec.podManagementPolicy, policies));
  }
  const strategy = spec.updateStrategy;
  const types = ['OnDelete', 'RollingUpdate'];
  if (strategy?.type !== undefined && !types.includes(strategy.type)) causes.push(notSupported('spec.updateStrategy.type', strategy.type, types));
  if (strategy?.type === 'OnDelete' && strategy.rollingUpdate) {
    causes.push(invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  const ru = strategy?.rollingUpdate;
  if (strategy?.type === 'RollingUpdate' && ru) {
    causes.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', ru.partition));
    causes.push(...validateIntOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
    if (ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') {
      causes.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'must be greater than 0'));
    }
  }
  const retention = ['Retain', 'Delete'];
  for (const when of ['whenDeleted', 'whenScaled'] as const) {
    const v = spec.persistentVolumeClaimRetentionPolicy?.[when];
    if (v !== undefined && !retention.includes(v)) causes.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${when}`, v, retention));
  }
  const names = new Set<string>();
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const field = `spec.volumeClaimTemplates[${i}]`;
    const name = t?.metadata?.name;
    if (!name) causes.push(required(`${field}.metadata.name`, 'name or generateName is required'));
    else {
      for (const msg of checkDns1123Subdomain(name)) causes.push(invalid(`${field}.metadata.name`, name, msg));
      if (names.has(name)) causes.push(invalid(`${field}.metadata.name`, name, 'duplicate volume claim template name'));
      names.add(name);
    }
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: t?.metadata ?? {}, spec: t?.spec } as PersistentVolumeClaim;
    causes.push(...validatePersistentVolumeClaim(claim).map((c) => (c.field ? { ...c, field: `${field}.${c.field}` } : c)));
  });
  return causes;
}

/** Only replicas, ordinals, template, updateStrategy, revisionHistoryLimit, retention policy and minReadySeconds may change. */
export function validateStatefulSetUpdate(oldSts: StatefulSet, newSts: StatefulSet): StatusCause[] {
  const fixed = (s: StatefulSet) => stableStringify({
    ...s.spec, replicas: undefined, ordinals: undefined, template: undefined, updateStrategy: undefined,
    revisionHistoryLimit: undefined, persistentVolumeClaimRetentionPolicy: undefined, minReadySeconds: undefined,
  });
  if (fixed(oldSts) === fixed(newSts)) return [];
  return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}
