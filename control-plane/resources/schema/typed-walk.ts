// Walking an object alongside its kind's schema: which definition a map sits in, so list fields get
// the semantics the Kubernetes types declare for them (list-types.ts). Untyped places (free-form
// fields, unknown kinds, map values without a schema) have no model.
import { listSemantics, type ListSemantics } from './list-types.js';
import { definitionNameOf, schemaDefinitions, type SchemaNode } from './object-schemas.js';

export interface Typed {
  /** the definition name when the node is a $ref to one */
  model?: string;
  node?: SchemaNode;
}

const UNTYPED: Typed = {};

function resolve(node: SchemaNode | undefined): Typed {
  if (!node) return UNTYPED;
  if (node.$ref) {
    const def = schemaDefinitions[node.$ref];
    return def ? { model: node.$ref, node: def } : UNTYPED;
  }
  return { node };
}

/** The type of an object by its apiVersion and kind (untyped when not a served kind). */
export function typedRoot(obj: unknown): Typed {
  if (typeof obj !== 'object' || obj === null) return UNTYPED;
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return UNTYPED;
  const model = definitionNameOf(apiVersion, kind);
  return model ? resolve({ $ref: model }) : UNTYPED;
}

/** The type of a map's field (a property, else the map's value type). */
export function typedField(t: Typed, field: string): Typed {
  const n = t.node;
  if (!n) return UNTYPED;
  return resolve(n.properties?.[field] ?? n.additionalProperties);
}

/** The type of a list's items. */
export const typedItems = (t: Typed): Typed => resolve(t.node?.items);

/** The semantics of list `field` in the map typed `t` (undefined when untyped). */
export function typedList(t: Typed, field: string): ListSemantics | undefined {
  if (!t.model || t.node?.properties?.[field]?.type !== 'array') return undefined;
  return listSemantics(t.model, field);
}
