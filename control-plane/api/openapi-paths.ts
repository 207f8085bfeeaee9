// The operations of the served paths, for OpenAPI v2 and v3: collection (list, create) and object
// (get, replace, patch, delete) paths, a /status path where served, each operation with its
// x-kubernetes-action and x-kubernetes-group-version-kind and the query parameters kubectl looks for
// (fieldValidation tells `kubectl apply --validate` that the server validates fields itself).
import type { ResourceType } from '../resources/resource-types.js';
import { definitionNameOf } from '../resources/schema/object-schemas.js';
import type { OpenApiVersion } from './openapi-schemas.js';
import { servedName } from './openapi-schemas.js';

type Json = Record<string, unknown>;

export const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const PATCH_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_PARAMS = [...WRITE_PARAMS, 'force'];

function queryParam(name: string, v: OpenApiVersion): Json {
  const type = name === 'force' ? 'boolean' : 'string';
  return v === 'v2' ? { name, in: 'query', type, uniqueItems: true } : { name, in: 'query', schema: { type, uniqueItems: true } };
}

function pathParam(name: string, v: OpenApiVersion): Json {
  return v === 'v2' ? { name, in: 'path', required: true, type: 'string', uniqueItems: true } : { name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } };
}

function schemaRef(t: ResourceType, v: OpenApiVersion): Json | undefined {
  const model = definitionNameOf(t.apiVersion, t.kind);
  if (!model) return undefined;
  return { $ref: `${v === 'v2' ? '#/definitions/' : '#/components/schemas/'}${servedName(model)}` };
}

function operation(t: ResourceType, action: string, id: string, params: string[], v: OpenApiVersion, body: boolean): Json {
  const ref = schemaRef(t, v);
  const parameters: Json[] = params.map((p) => queryParam(p, v));
  const response = v === 'v2' ? { description: 'OK', ...(ref ? { schema: ref } : {}) } : { description: 'OK', ...(ref ? { content: { 'application/json': { schema: ref } } } : {}) };
  const op: Json = {
    operationId: id,
    ...(v === 'v2' ? { consumes: action === 'patch' ? PATCH_TYPES : ['*/*'], produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'], schemes: ['https'] } : {}),
    tags: [t.group ? `${t.group.replace(/\..*$/, '')}_${t.version}` : `core_${t.version}`],
    parameters,
    responses: { '200': response },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
  };
  if (body && ref) {
    // a patch body is a Patch (any object); kubectl looks for the strategic merge type among its media types
    const bodySchema = action === 'patch' ? { $ref: `${v === 'v2' ? '#/definitions/' : '#/components/schemas/'}${PATCH_SCHEMA}` } : ref;
    if (v === 'v2') parameters.unshift({ name: 'body', in: 'body', required: true, schema: bodySchema });
    else op['requestBody'] = { content: Object.fromEntries((action === 'patch' ? PATCH_TYPES : ['*/*']).map((m) => [m, { schema: bodySchema }])), required: true };
  }
  return op;
}

/** The paths of one kind, keyed by path. */
export function kindPaths(t: ResourceType, v: OpenApiVersion): Record<string, Json> {
  if (!t.verbs.includes('get') && !t.verbs.includes('create')) return {};
  const base = `/${gvPath(t.group, t.version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
  const scope = t.namespaced ? [pathParam('namespace', v)] : [];
  const out: Record<string, Json> = {};
  const ns = t.namespaced ? 'Namespaced' : '';
  const collection: Json = { parameters: scope };
  if (t.verbs.includes('list')) collection['get'] = operation(t, 'list', `list${ns}${t.kind}`, [], v, false);
  if (t.verbs.includes('create')) collection['post'] = operation(t, 'post', `create${ns}${t.kind}`, WRITE_PARAMS, v, true);
  if (collection['get'] || collection['post']) out[base] = collection;
  if (!t.verbs.includes('get')) return out; // create-only reviews: no object paths
  const item = (suffix: string, what: string): Json => ({
    parameters: [pathParam('name', v), ...scope],
    get: operation(t, 'get', `read${ns}${t.kind}${what}`, [], v, false),
    ...(t.verbs.includes('update') ? { put: operation(t, 'put', `replace${ns}${t.kind}${what}`, WRITE_PARAMS, v, true) } : {}),
    ...(t.verbs.includes('patch') ? { patch: operation(t, 'patch', `patch${ns}${t.kind}${what}`, PATCH_PARAMS, v, true) } : {}),
    ...(t.verbs.includes('delete') && !suffix ? { delete: operation(t, 'delete', `delete${ns}${t.kind}`, ['dryRun'], v, false) } : {}),
  });
  out[`${base}/{name}`] = item('', '');
  if (t.subresources.includes('status')) out[`${base}/{name}/status`] = item('/status', 'Status');
  return out;
}
