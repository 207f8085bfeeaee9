// Table printers for the RBAC kinds (kubectl's columns: roles show when they were created, bindings the role and subjects).
import type { ClusterRoleBinding, RoleBinding, Subject } from '../../resources/kinds/rbac.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

const createdAtColumn = column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { type: 'date' });

export const rolePrinter: KindPrinter = {
  columns: [nameColumn, createdAtColumn],
  cells: (obj) => [obj.metadata.name, obj.metadata.creationTimestamp ?? ''],
};

const names = (subjects: Subject[] | undefined, kind: string, qualify: boolean) =>
  (subjects ?? []).filter((s) => s.kind === kind).map((s) => (qualify ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');

export const roleBindingPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Role', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
    ageColumn,
    column('Users', 'Users in the roleBinding', { priority: 1 }),
    column('Groups', 'Groups in the roleBinding', { priority: 1 }),
    column('ServiceAccounts', 'ServiceAccounts in the roleBinding', { priority: 1 }),
  ],
  cells(obj, nowMs) {
    const b = obj as RoleBinding | ClusterRoleBinding;
    return [b.metadata.name, `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, ageOf(b.metadata.creationTimestamp, nowMs),
      names(b.subjects, 'User', false), names(b.subjects, 'Group', false), names(b.subjects, 'ServiceAccount', true)];
  },
};
