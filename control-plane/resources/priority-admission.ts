// PriorityClass validation and the Priority admission plugin, worded like the real server: system
// classes (system-cluster-critical, system-node-critical) are reserved and cannot be deleted, user
// values stop at one billion, one class at most is the global default, and a new pod's
// spec.priority and spec.preemptionPolicy are resolved from its priorityClassName (or the default).
import { ForbiddenError, type StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import { forbidden as fieldForbidden, invalid, notSupported, required } from './field-causes.js';
import type { PreemptionPolicy, PriorityClass } from './kinds/scheduling.js';
import { forbidden } from './policy-admission.js';
import { resourceTypes, type ResourceType } from './resource-types.js';

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const SYSTEM_PREFIX = 'system-';
const PREEMPTION_POLICIES: PreemptionPolicy[] = ['PreemptLowerPriority', 'Never'];

/** The classes every cluster has (scheduling/v1 SystemPriorityClasses). */
export const systemPriorityClasses: readonly PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-node-critical' }, value: 2_000_001_000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-cluster-critical' }, value: 2_000_000_000,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= 'PreemptLowerPriority';
}

function knownSystemClassError(pc: PriorityClass): string | undefined {
  const known = systemPriorityClasses.find((s) => s.metadata.name === pc.metadata.name);
  if (!known) return `${pc.metadata.name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${known.metadata.name} PriorityClass must be ${known.value}`;
  if (Boolean(pc.globalDefault) !== Boolean(known.globalDefault)) return `globalDefault of ${known.metadata.name} PriorityClass must be ${Boolean(known.globalDefault)}`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass): StatusCause[] {
  const causes: StatusCause[] = [];
  if (pc.value === undefined || pc.value === null) causes.push(required('value'));
  else if (typeof pc.value !== 'number' || !Number.isInteger(pc.value)) causes.push(invalid('value', pc.value, 'must be an integer'));
  const name = pc.metadata?.name ?? '';
  if (name.startsWith(SYSTEM_PREFIX)) {
    const error = knownSystemClassError(pc);
    if (error) causes.push(fieldForbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${error}`));
  } else if (typeof pc.value === 'number' && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    causes.push(fieldForbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.globalDefault !== undefined && typeof pc.globalDefault !== 'boolean') causes.push(invalid('globalDefault', pc.globalDefault, 'must be a boolean'));
  if (pc.preemptionPolicy !== undefined && !PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) causes.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  return causes;
}

export function validatePriorityClassUpdate(oldPc: PriorityClass, newPc: PriorityClass): StatusCause[] {
  const causes: StatusCause[] = [];
  if (oldPc.value !== newPc.value) causes.push(fieldForbidden('value', 'may not be changed in an update.'));
  if (oldPc.preemptionPolicy !== newPc.preemptionPolicy) causes.push(invalid('preemptionPolicy', newPc.preemptionPolicy ?? null, 'field is immutable'));
  return causes;
}

type PriorityClassLister = () => Promise<PriorityClass[]>;

/** At most one global default: a second one (created, or an existing class marked so) is refused. */
export async function admitPriorityClass(pc: PriorityClass, list: PriorityClassLister): Promise<void> {
  if (pc.globalDefault !== true) return;
  const other = (await list()).find((c) => c.globalDefault === true && c.metadata.name !== pc.metadata.name);
  if (other) throw forbidden(resourceTypes.priorityclasses, pc, `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
}

/** System classes cannot be deleted (the real storage refuses it). */
export function assertDeletablePriorityClass(type: ResourceType, name: string): void {
  if (type !== resourceTypes.priorityclasses || !systemPriorityClasses.some((s) => s.metadata.name === name)) return;
  throw new ForbiddenError(`priorityclasses.scheduling.k8s.io "${name}" is forbidden: this is a system priority class and cannot be deleted`,
    { group: 'scheduling.k8s.io', kind: 'priorityclasses', name });
}

/** The Priority plugin on pod create: spec.priority (and preemptionPolicy) from the named class, the global default, or 0. */
export async function admitPodPriority(type: ResourceType, obj: KubeObject, list: PriorityClassLister): Promise<void> {
  if (type !== resourceTypes.pods) return;
  const pod = obj as Pod;
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return;
  const className = spec['priorityClassName'];
  let priority = 0;
  let policy: PreemptionPolicy | undefined = 'PreemptLowerPriority';
  if (className === undefined || className === '') {
    const byDefault = (await list()).filter((c) => c.globalDefault === true).sort((a, b) => a.value - b.value)[0];
    if (byDefault) {
      spec['priorityClassName'] = byDefault.metadata.name;
      priority = byDefault.value;
      policy = byDefault.preemptionPolicy;
    }
  } else {
    if (typeof className !== 'string') return; // validation reports the type
    const found = (await list()).find((c) => c.metadata.name === className);
    if (!found) throw forbidden(type, pod, `no PriorityClass with name ${className} was found`);
    priority = found.value;
    policy = found.preemptionPolicy;
  }
  if (spec['priority'] !== undefined && spec['priority'] !== null && spec['priority'] !== priority) {
    throw forbidden(type, pod, `the integer value of priority (${String(spec['priority'])}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  spec['priority'] = priority;
  if (spec['preemptionPolicy'] !== undefined && policy !== undefined && spec['preemptionPolicy'] !== policy) {
    throw forbidden(type, pod, `the string value of PreemptionPolicy (${String(spec['preemptionPolicy'])}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
  }
  if (policy !== undefined) spec['preemptionPolicy'] = policy;
}

/** On update the plugin keeps what it set at create (validation then refuses any change). */
export function keepPodPriority(type: ResourceType, current: KubeObject, next: KubeObject): void {
  if (type !== resourceTypes.pods) return;
  const was = (current as Pod).spec;
  const spec = (next as Pod).spec;
  if (!spec || typeof spec !== 'object' || !was) return;
  if (spec['priority'] === undefined && was['priority'] !== undefined) spec['priority'] = was['priority'];
  if (spec['preemptionPolicy'] === undefined && was['preemptionPolicy'] !== undefined) spec['preemptionPolicy'] = was['preemptionPolicy'];
}
