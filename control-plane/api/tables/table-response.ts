// meta.k8s.io/v1 Table output: negotiated from Accept, rows carrying PartialObjectMetadata (or the object).
import type { Context } from 'hono';
import { BadRequestError } from '../../../api/errors.js';
import type { KubeObject, ListMeta } from '../../../api/types/meta.js';
import type { ResourceType } from '../../resources/resource-types.js';
import { printerFor } from './kind-printers.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRequest {
  includeObject: IncludeObject;
}

/** A Table request when the Accept header asks for `as=Table;g=meta.k8s.io;v=v1` (first acceptable wins). */
export function tableRequest(c: Context): TableRequest | undefined {
  const accept = c.req.header('accept') ?? '';
  const first = accept.split(',').map((s) => s.trim()).find((s) => /^application\/json\b/.test(s) || s === '*/*');
  if (!first || !/\bas=Table\b/.test(first) || !/\bg=meta\.k8s\.io\b/.test(first)) return undefined;
  const include = c.req.query('includeObject') || 'Metadata';
  if (include !== 'None' && include !== 'Metadata' && include !== 'Object') {
    throw new BadRequestError(`includeObject: Unsupported value: "${include}": supported values: "Metadata", "None", "Object"`);
  }
  return { includeObject: include };
}

export function buildTable(type: ResourceType, objects: KubeObject[], listMeta: ListMeta, request: TableRequest, nowMs: number, withColumns = true) {
  const printer = printerFor(type.plural);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? printer.columns : [],
    rows: objects.map((obj) => ({ cells: printer.cells(obj, nowMs), ...rowObject(obj, request.includeObject) })),
  };
}

function rowObject(obj: KubeObject, include: IncludeObject): { object?: unknown } {
  if (include === 'None') return {};
  if (include === 'Object') return { object: obj };
  return { object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata } };
}
