// The kind schemas (control-plane/resources/schema) as OpenAPI v3 components, which is what
// `kubectl explain` reads: definitions named like Kubernetes' (io.k8s.<group>.<version>.<Type>, so
// kubectl prints `<PodSpec>`), $refs to #/components/schemas, descriptions on refs through allOf,
// x-kubernetes-group-version-kind on each root, and the list extensions of the Kubernetes types
// (list-types.ts): patch strategy and merge key (kubectl builds client-side apply patches from them),
// list type and map keys (server-side apply). The same definitions serve OpenAPI v2 (`#/definitions/`,
// descriptions beside a $ref) and v3 (`#/components/schemas/`, descriptions on refs through allOf).
import type { ResourceType } from '../resources/resource-types.js';
import { ATOMIC_MAP_MODELS, isAtomicMapField, listSemantics } from '../resources/schema/list-types.js';
import { definitionNameOf, schemaDefinitions, type SchemaNode } from '../resources/schema/object-schemas.js';

type Json = Record<string, unknown>;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** "V1PodSpec" -> "io.k8s.v1.PodSpec", "CoreV1EndpointPort" -> "io.k8s.core.v1.EndpointPort". */
export function servedName(model: string): string {
  const m = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)(.+)$/.exec(model);
  if (!m) return `io.k8s.${model}`;
  return `io.k8s.${m[1] ? `${m[1].toLowerCase()}.` : ''}${m[2]!.toLowerCase()}.${m[3]}`;
}

export type OpenApiVersion = 'v2' | 'v3';
const refTo = (name: string, v: OpenApiVersion = 'v3'): Json => ({ $ref: `${v === 'v2' ? '#/definitions/' : '#/components/schemas/'}${name}` });

function servedNode(node: SchemaNode, refs: Set<string>, v: OpenApiVersion): Json {
  if (node.$ref) {
    refs.add(node.$ref);
    return refTo(servedName(node.$ref), v);
  }
  if (node['x-kubernetes-int-or-string']) return refTo(node.format === 'quantity' ? QUANTITY : INT_OR_STRING, v);
  if (node['x-kubernetes-preserve-unknown-fields']) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const out: Json = {};
  if (node.type) out['type'] = node.type;
  if (node.format) out['format'] = node.format;
  if (node.items) out['items'] = servedNode(node.items, refs, v);
  if (node.additionalProperties) out['additionalProperties'] = servedNode(node.additionalProperties, refs, v);
  return out;
}

/** The list extensions the Kubernetes types declare for a list field (list-types.ts). */
export function listExtensions(model: string, field: string): Json {
  const s = listSemantics(model, field);
  return {
    ...(s.patchMergeKey ? { 'x-kubernetes-patch-merge-key': s.patchMergeKey } : {}),
    ...(s.patchStrategy ? { 'x-kubernetes-patch-strategy': s.patchStrategy } : {}),
    'x-kubernetes-list-type': s.listType,
    ...(s.keys ? { 'x-kubernetes-list-map-keys': [...s.keys] } : {}),
  };
}

function servedDefinition(model: string, def: SchemaNode, refs: Set<string>, v: OpenApiVersion): Json {
  const properties: Json = {};
  for (const [field, node] of Object.entries(def.properties ?? {})) {
    const served = servedNode(node, refs, v);
    const described = !node.description ? served : served['$ref'] && v === 'v3' ? { description: node.description, allOf: [served] } : { ...served, description: node.description };
    const atomicMap = node.additionalProperties && isAtomicMapField(model, field, undefined) ? { 'x-kubernetes-map-type': 'atomic' } : {};
    properties[field] = { ...described, ...(node.type === 'array' ? listExtensions(model, field) : {}), ...atomicMap };
  }
  return {
    type: 'object',
    ...(def.description ? { description: def.description } : {}),
    ...(def.required ? { required: def.required } : {}),
    properties,
    ...(ATOMIC_MAP_MODELS.has(model) ? { 'x-kubernetes-map-type': 'atomic' } : {}),
  };
}

/** Schema definitions for the kinds of one group-version (or all): their roots and everything they reference. */
export function componentSchemas(types: readonly ResourceType[], v: OpenApiVersion = 'v3'): Json {
  const schemas: Json = {
    [INT_OR_STRING]: { type: 'string', format: 'int-or-string', description: 'IntOrString is a type that can hold an int32 or a string.' },
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
    [QUANTITY]: { type: 'string', description: 'Quantity is a fixed-point representation of a number (a string such as "500m" or "64Mi", or a number).' },
  };
  const roots = new Map<string, ResourceType>();
  for (const t of types) {
    const model = definitionNameOf(t.apiVersion, t.kind);
    if (model) roots.set(model, t);
  }
  const pending = [...roots.keys()];
  const done = new Set<string>();
  while (pending.length > 0) {
    const model = pending.pop()!;
    if (done.has(model)) continue;
    done.add(model);
    const def = schemaDefinitions[model];
    if (!def) continue;
    const refs = new Set<string>();
    const served = servedDefinition(model, def, refs, v);
    const root = roots.get(model);
    if (root) served['x-kubernetes-group-version-kind'] = [{ group: root.group, version: root.version, kind: root.kind }];
    schemas[servedName(model)] = served;
    for (const ref of refs) if (!done.has(ref)) pending.push(ref);
  }
  return schemas;
}

/** The schema reference a path operation answers with. */
export const kindSchemaRef = (t: ResourceType): Json | undefined => {
  const model = definitionNameOf(t.apiVersion, t.kind);
  return model ? refTo(servedName(model)) : undefined;
};
