// Table printers for resourcequotas, limitranges, poddisruptionbudgets and priorityclasses (kubectl's columns).
import type { LimitRange, PodDisruptionBudget, ResourceQuota } from '../../resources/kinds/policy.js';
import type { PriorityClass } from '../../resources/kinds/scheduling.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

export const resourceQuotaPrinter: KindPrinter = {
  columns: [
    nameColumn, ageColumn,
    column('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
  ],
  cells(obj, nowMs) {
    const q = obj as ResourceQuota;
    const hard = q.status?.hard ?? {};
    const used = q.status?.used ?? {};
    const show = (keys: string[]) => keys.sort().map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
    const keys = Object.keys(hard);
    return [q.metadata.name, ageOf(q.metadata.creationTimestamp, nowMs), show(keys.filter((k) => !k.startsWith('limits.'))), show(keys.filter((k) => k.startsWith('limits.')))];
  },
};

export const limitRangePrinter: KindPrinter = {
  columns: [nameColumn, column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { type: 'date' })],
  cells: (obj) => [obj.metadata.name, (obj as LimitRange).metadata.creationTimestamp ?? ''],
};

export const podDisruptionBudgetPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Min Available', 'The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', { type: 'integer' }),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const pdb = obj as PodDisruptionBudget;
    return [pdb.metadata.name, pdb.spec?.minAvailable !== undefined ? String(pdb.spec.minAvailable) : 'N/A',
      pdb.spec?.maxUnavailable !== undefined ? String(pdb.spec.maxUnavailable) : 'N/A', pdb.status?.disruptionsAllowed ?? 0, ageOf(pdb.metadata.creationTimestamp, nowMs)];
  },
};

export const priorityClassPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Value', "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.", { type: 'integer' }),
    column('Global-Default', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.', { type: 'boolean' }),
    ageColumn,
    column('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
  ],
  cells(obj, nowMs) {
    const pc = obj as PriorityClass;
    return [pc.metadata.name, pc.value, pc.globalDefault ?? false, ageOf(pc.metadata.creationTimestamp, nowMs), pc.preemptionPolicy ?? ''];
  },
};
