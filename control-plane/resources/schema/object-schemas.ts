// The schema of every kind skiff serves, as OpenAPI-style definitions generated from
// @kubernetes/client-node's models (scripts/generate-kube-schemas.mjs, docs/decisions/006): field
// types, int32/int64 formats, maps, lists, IntOrString, Quantity and free-form parts, with the
// descriptions and required fields that OpenAPI documents (kubectl explain) need.
import kubeSchemas from './kube-schemas.json' with { type: 'json' };

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  $ref?: string;
  /** A string or an integer (IntOrString), or for format "quantity" a string or any number. */
  'x-kubernetes-int-or-string'?: true;
  /** Free-form JSON (RawExtension, opaque data): anything, nothing checked inside. */
  'x-kubernetes-preserve-unknown-fields'?: true;
}

interface SchemaDocument {
  source: string;
  /** "group/version/Kind" ("v1/Kind" for the core group) -> definition name */
  kinds: Record<string, string>;
  definitions: Record<string, SchemaNode>;
}

const document = kubeSchemas as unknown as SchemaDocument;

export const schemaSource = document.source;
export const schemaDefinitions: Readonly<Record<string, SchemaNode>> = document.definitions;

/** The definition name of a kind, by its apiVersion ("v1", "apps/v1") and kind. */
export function definitionNameOf(apiVersion: string, kind: string): string | undefined {
  return document.kinds[`${apiVersion}/${kind}`];
}

/** The root schema of a kind, or undefined for a kind without one. */
export function schemaOfKind(apiVersion: string, kind: string): SchemaNode | undefined {
  const name = definitionNameOf(apiVersion, kind);
  return name ? { $ref: name } : undefined;
}

/** Follows a $ref to its definition. */
export function resolveSchema(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const def = document.definitions[node.$ref];
  if (!def) throw new Error(`schema definition ${node.$ref} is missing`);
  return def;
}
