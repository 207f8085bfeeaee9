// GET, POST, PUT, DELETE and deletecollection on resource paths.
import type { Context } from 'hono';
import { BadRequestError, MethodNotAllowedError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { DeleteOptions } from '../resources/resource-store.js';
import type { ApiDeps } from './api-deps.js';
import { listResponse, objectResponse } from './object-response.js';
import { fieldManagerOf, ownCreated, ownUpdated } from './field-ownership.js';
import { isDryRun, listOptions, optionalInt } from './query-options.js';
import { decodeFields } from './field-validation.js';
import { parseJsonBody } from './json-body.js';
import { readBodyBytes, readBodyFields } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';

export async function getObject(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const obj = await deps.resources.get(t.type, t.namespace, t.name);
  return objectResponse(c, deps, t.type, obj);
}

export async function listObjects(c: Context, deps: ApiDeps, t: ResourceTarget): Promise<Response> {
  const list = await deps.resources.list(t.type, listOptions(c, t.namespace));
  return listResponse(c, deps, t.type, list);
}

export async function createObject(c: Context, deps: ApiDeps, t: ResourceTarget): Promise<Response> {
  if (t.type.namespaced && !t.namespace) throw new MethodNotAllowedError(`POST is not supported on the cluster-wide ${t.type.plural} collection`);
  const body = await readBodyFields(c, deps.maxBodyBytes, ['application/yaml', 'application/vnd.kubernetes.protobuf']);
  decodeFields(c, t.type, body.value, body.duplicateFields);
  const obj = requireObject(body.value);
  bindNamespace(obj, t.namespace);
  await deps.admit?.(c, t.type, obj);
  ownCreated(obj, { manager: fieldManagerOf(c, t.type, false), apiVersion: t.type.apiVersion, clock: deps.clock });
  const created = await deps.resources.create(t.type, obj, { dryRun: isDryRun(c) });
  return objectResponse(c, deps, t.type, created, 201);
}

export async function updateObject(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const body = await readBodyFields(c, deps.maxBodyBytes, ['application/yaml']);
  decodeFields(c, t.type, body.value, body.duplicateFields);
  const obj = requireObject(body.value);
  bindNamespace(obj, t.namespace);
  bindName(obj, t.name);
  const subresource = t.subresource === 'status' || t.subresource === 'finalize' ? t.subresource : undefined;
  if (!subresource) {
    await deps.admit?.(c, t.type, obj);
    const manager = fieldManagerOf(c, t.type, false);
    const current = await deps.resources.get(t.type, t.namespace, t.name);
    ownUpdated(current, obj, { manager, apiVersion: t.type.apiVersion, clock: deps.clock });
  }
  const updated = await deps.resources.update(t.type, obj, { subresource, dryRun: isDryRun(c) });
  return objectResponse(c, deps, t.type, updated);
}

export async function deleteObject(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const opts = await deleteOptions(c, deps);
  const result = await deps.resources.delete(t.type, t.namespace, t.name, opts);
  // 200 even when the object lives on (graceful deletion, finalizers): the real API server answers 202
  // only for the deprecated orphanDependents=false.
  return objectResponse(c, deps, t.type, result);
}

export async function deleteCollection(c: Context, deps: ApiDeps, t: ResourceTarget): Promise<Response> {
  const opts = await deleteOptions(c, deps);
  const list = await deps.resources.list(t.type, { ...listOptions(c, t.namespace), limit: undefined, continue: undefined });
  const items: KubeObject[] = [];
  for (const item of list.items) {
    items.push(await deps.resources.delete(t.type, item.metadata.namespace, item.metadata.name ?? '', opts));
  }
  return listResponse(c, deps, t.type, { ...list, items });
}

const deleteOptionsKind = { apiVersion: 'meta/v1', kind: 'DeleteOptions' };

async function deleteOptions(c: Context, deps: ApiDeps): Promise<DeleteOptions> {
  const bytes = await readBodyBytes(c, deps.maxBodyBytes);
  let body: Record<string, unknown> = {};
  if (bytes.length > 0) {
    const parsed = parseJsonBody(new TextDecoder().decode(bytes));
    decodeFields(c, deleteOptionsKind, parsed.value, parsed.duplicateFields);
    body = parsed.value as Record<string, unknown>;
  }
  const grace = optionalInt(c, 'gracePeriodSeconds') ?? (typeof body['gracePeriodSeconds'] === 'number' ? body['gracePeriodSeconds'] : undefined);
  const policy = c.req.query('propagationPolicy') ?? body['propagationPolicy'];
  if (policy !== undefined && policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
    throw new BadRequestError(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
  }
  const dryRun = isDryRun(c) || (Array.isArray(body['dryRun']) && body['dryRun'].includes('All'));
  const pre = body['preconditions'] as DeleteOptions['preconditions'] | undefined;
  return { gracePeriodSeconds: grace, propagationPolicy: policy, preconditions: pre, dryRun };
}

export function requireObject(body: unknown): KubeObject {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('the request body must be a JSON object');
  const obj = body as KubeObject;
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null)) throw new BadRequestError('metadata must be an object');
  obj.metadata ??= {};
  return obj;
}

export function bindNamespace(obj: KubeObject, namespace: string | undefined): void {
  if (namespace === undefined) return;
  if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
    throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
  }
  obj.metadata.namespace = namespace;
}

export function bindName(obj: KubeObject, name: string): void {
  if (obj.metadata.name && obj.metadata.name !== name) {
    throw new BadRequestError(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  obj.metadata.name = name;
}
