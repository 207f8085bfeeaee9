// Pod spec immutability on update: only images, activeDeadlineSeconds, tolerations (and binding) may change.
import type { StatusCause } from '../../api/errors.js';
import type { Pod, PodSpec } from '../../api/types/pod.js';
import { forbidden } from './field-causes.js';
import { sameJson } from './same-json.js';

const message = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

export function validatePodUpdate(oldPod: Pod, newPod: Pod): StatusCause[] {
  if (sameJson(comparable(oldPod.spec, oldPod.spec), comparable(newPod.spec, oldPod.spec))) return [];
  return [forbidden('spec', message)];
}

/** The spec with its mutable fields replaced by the old pod's, so only immutable differences remain. */
function comparable(spec: PodSpec, oldSpec: PodSpec): unknown {
  const copy = { ...spec }; // shallow: only compared, never changed
  copy.containers = (copy.containers ?? []).map((c) => ({ ...c, image: '' }));
  if (copy.initContainers) copy.initContainers = copy.initContainers.map((c) => ({ ...c, image: '' }));
  delete copy['activeDeadlineSeconds'];
  delete copy.tolerations;
  // Binding (unset -> set) is allowed so the scheduler may bind through update/mutate as well as /binding.
  if (!oldSpec.nodeName) delete copy.nodeName;
  return copy;
}
