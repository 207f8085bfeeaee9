// The kind schemas (control-plane/resources/schema) as OpenAPI v3 components, which is what
// `kubectl explain` reads: definitions named like Kubernetes' (io.k8s.<group>.<version>.<Type>, so
// kubectl prints `<PodSpec>`), $refs to #/components/schemas, descriptions on refs through allOf,
// x-kubernetes-group-version-kind on each root, and the strategic-merge extensions this server's
// patch code applies (kubectl builds client-side apply patches from them).
import type { ResourceType } from '../resources/resource-types.js';
import { definitionNameOf, schemaDefinitions, type SchemaNode } from '../resources/schema/object-schemas.js';
import { mergedPrimitiveLists, mergeKeyFor } from './patch/strategic-merge-patch.js';

type Json = Record<string, unknown>;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** "V1PodSpec" -> "io.k8s.v1.PodSpec", "CoreV1EndpointPort" -> "io.k8s.core.v1.EndpointPort". */
export function servedName(model: string): string {
  const m = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)(.+)$/.exec(model);
  if (!m) return `io.k8s.${model}`;
  return `io.k8s.${m[1] ? `${m[1].toLowerCase()}.` : ''}${m[2]!.toLowerCase()}.${m[3]}`;
}

const refTo = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

function servedNode(node: SchemaNode, refs: Set<string>): Json {
  if (node.$ref) {
    refs.add(node.$ref);
    return refTo(servedName(node.$ref));
  }
  if (node['x-kubernetes-int-or-string']) return refTo(node.format === 'quantity' ? QUANTITY : INT_OR_STRING);
  if (node['x-kubernetes-preserve-unknown-fields']) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const out: Json = {};
  if (node.type) out['type'] = node.type;
  if (node.format) out['format'] = node.format;
  if (node.items) out['items'] = servedNode(node.items, refs);
  if (node.additionalProperties) out['additionalProperties'] = servedNode(node.additionalProperties, refs);
  return out;
}

/** The patch strategy this server uses for a list field (strategic-merge-patch.ts). */
function patchExtensions(model: string, field: string, node: SchemaNode): Json {
  if (node.type !== 'array') return {};
  if (mergedPrimitiveLists.has(field)) return { 'x-kubernetes-patch-strategy': 'merge' };
  const inContainer = model === 'V1Container' || model === 'V1EphemeralContainer';
  const key = mergeKeyFor(inContainer ? ['containers'] : [], field);
  return key && node.items?.$ref ? { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': key } : {};
}

function servedDefinition(model: string, def: SchemaNode, refs: Set<string>): Json {
  const properties: Json = {};
  for (const [field, node] of Object.entries(def.properties ?? {})) {
    const served = servedNode(node, refs);
    const described = node.description ? (served['$ref'] ? { description: node.description, allOf: [served] } : { ...served, description: node.description }) : served;
    properties[field] = { ...described, ...patchExtensions(model, field, node) };
  }
  return {
    type: 'object',
    ...(def.description ? { description: def.description } : {}),
    ...(def.required ? { required: def.required } : {}),
    properties,
  };
}

/** components.schemas for the kinds of one group-version: their roots and everything they reference. */
export function componentSchemas(types: readonly ResourceType[]): Json {
  const schemas: Json = {
    [INT_OR_STRING]: { type: 'string', format: 'int-or-string', description: 'IntOrString is a type that can hold an int32 or a string.' },
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
    const served = servedDefinition(model, def, refs);
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
