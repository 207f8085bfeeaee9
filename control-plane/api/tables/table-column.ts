// The shape of a Table column and of a kind's printer (columns + one row of cells per object).
import type { KubeObject } from '../../../api/types/meta.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface KindPrinter {
  columns: TableColumn[];
  cells(obj: KubeObject, nowMs: number): unknown[];
}

export const column = (name: string, description: string, options: Partial<TableColumn> = {}): TableColumn =>
  ({ name, type: 'string', format: '', description, priority: 0, ...options });

export const nameColumn = column('Name', 'Name must be unique within a namespace.', { format: 'name' });
export const ageColumn = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
