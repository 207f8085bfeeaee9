// StorageClass (storage.k8s.io/v1) defaulting and validation, with the real server's wording.
import type { StatusCause } from '../../api/errors.js';
import { forbidden, invalid, notSupported, required } from './field-causes.js';
import type { StorageClass } from './kinds/storage.js';
import { stableStringify } from './stable-stringify.js';

const reclaimPolicies = ['Delete', 'Retain'];
const bindingModes = ['Immediate', 'WaitForFirstConsumer'];
const qualifiedName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function defaultStorageClass(sc: StorageClass): void {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}

export function validateStorageClass(sc: StorageClass): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!sc.provisioner) causes.push(required('provisioner'));
  else if (typeof sc.provisioner !== 'string' || sc.provisioner.length > 63 + 254 || !qualifiedName.test(sc.provisioner)) {
    causes.push(invalid('provisioner', sc.provisioner, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"));
  }
  if (sc.reclaimPolicy !== undefined && !reclaimPolicies.includes(sc.reclaimPolicy)) causes.push(notSupported('reclaimPolicy', sc.reclaimPolicy, reclaimPolicies));
  if (sc.volumeBindingMode !== undefined && !bindingModes.includes(sc.volumeBindingMode)) causes.push(notSupported('volumeBindingMode', sc.volumeBindingMode, bindingModes));
  for (const [k, v] of Object.entries(sc.parameters ?? {})) {
    if (typeof v !== 'string') causes.push(invalid(`parameters[${k}]`, v, 'must be a string'));
  }
  return causes;
}

/** Everything but metadata, allowVolumeExpansion and mountOptions is fixed once created. */
export function validateStorageClassUpdate(oldSc: StorageClass, newSc: StorageClass): StatusCause[] {
  const causes: StatusCause[] = [];
  if (stableStringify(oldSc.parameters ?? {}) !== stableStringify(newSc.parameters ?? {})) causes.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (oldSc.provisioner !== newSc.provisioner) causes.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (oldSc.reclaimPolicy !== newSc.reclaimPolicy) causes.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (oldSc.volumeBindingMode !== newSc.volumeBindingMode) causes.push(invalid('volumeBindingMode', newSc.volumeBindingMode, 'field is immutable'));
  return causes;
}
