// PATCH: merge, JSON, strategic merge and server-side apply (field-ownership.ts); patches retry on
// conflict unless the patch itself pins metadata.resourceVersion.
import type { Context } from 'hono';
import { BadRequestError, ConflictError, NotFoundError, UnsupportedMediaTypeError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ApiDeps } from './api-deps.js';
import { bindName, bindNamespace, requireObject } from './object-handlers.js';
import { objectResponse } from './object-response.js';
import { applyJsonPatch } from './patch/json-patch.js';
import { applyMergePatch } from './patch/merge-patch.js';
import { applyStrategicMergePatch } from './patch/strategic-merge-patch.js';
import { isDryRun, isTrue } from './query-options.js';
import { applyConfiguration, fieldManagerOf, ownUpdated } from './field-ownership.js';
import { decodeFields } from './field-validation.js';
import { mediaType, readBodyFields } from './request-body.js';
import { checkFieldTypes } from '../resources/schema/check-field-types.js';
import { schemaOfKind } from '../resources/schema/object-schemas.js';
import type { ResourceTarget } from './resource-path.js';

export const patchTypes = {
  'application/merge-patch+json': applyMergePatch,
  'application/json-patch+json': applyJsonPatch,
  'application/strategic-merge-patch+json': applyStrategicMergePatch,
  // Server-side apply: merged strategically by applyConfiguration, which also owns, conflicts and prunes.
  'application/apply-patch+yaml': applyStrategicMergePatch,
} as const;
type PatchType = keyof typeof patchTypes;

const maxPatchAttempts = 5;

export async function patchObject(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const type = mediaType(c);
  if (!(type in patchTypes)) {
    throw new UnsupportedMediaTypeError(`the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchTypes).join(', ')}`);
  }
  const { value: patch, duplicateFields } = await readBodyFields(c, deps.maxBodyBytes, [type]);
  const dryRun = isDryRun(c);
  const subresource = t.subresource === 'status' ? 'status' : undefined;
  const apply = type === 'application/apply-patch+yaml';
  const manager = fieldManagerOf(c, t.type, apply);
  const ownership = { manager, apiVersion: t.type.apiVersion, clock: deps.clock, force: isTrue(c, 'force') };
  if (!apply && isTrue(c, 'force')) throw new BadRequestError('force is only allowed for apply patches');
  for (let attempt = 1; ; attempt++) {
    let current: KubeObject;
    try {
      current = await deps.resources.get(t.type, t.namespace, t.name);
    } catch (err) {
      if (err instanceof NotFoundError && type === 'application/apply-patch+yaml' && !subresource) {
        decodeFields(c, t.type, patch, duplicateFields);
        const applied = applyConfiguration(undefined, requireObject(structuredClone(patch)), ownership, knownFields(t, patch));
        return objectResponse(c, deps, t.type, await applyCreate(c, deps, t, applied, dryRun), 201);
      }
      throw err;
    }
    const base = withoutUnknownFields(t, current);
    const patched = apply && !subresource ? applyConfiguration(base, requireObject(structuredClone(patch)), ownership, knownFields(t, patch)) : patchTypes[type as PatchType](base, patch);
    decodeFields(c, t.type, patched, duplicateFields, { warn: attempt === 1 });
    const next = requireObject(patched);
    if (!apply && !subresource) ownUpdated(current, next, ownership);
    bindNamespace(next, t.namespace);
    bindName(next, t.name);
    const pinned = pinnedResourceVersion(patch);
    next.metadata.resourceVersion = pinned ?? current.metadata.resourceVersion;
    if (!subresource) await deps.admit?.(c, t.type, next);
    try {
      const updated = await deps.resources.update(t.type, next, { subresource, dryRun });
      return objectResponse(c, deps, t.type, updated);
    } catch (err) {
      if (!(err instanceof ConflictError) || pinned !== undefined || attempt >= maxPatchAttempts) throw err;
    }
  }
}

async function applyCreate(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }, patch: unknown, dryRun: boolean): Promise<KubeObject> {
  const obj = requireObject(structuredClone(patch));
  bindNamespace(obj, t.namespace);
  bindName(obj, t.name);
  await deps.admit?.(c, t.type, obj);
  return deps.resources.create(t.type, obj, { dryRun });
}

/** An applied configuration without the fields its schema does not know (nobody owns those). */
function knownFields(t: ResourceTarget, patch: unknown): KubeObject {
  return withoutUnknownFields(t, requireObject(structuredClone(patch)));
}

/** A copy of the stored object as decoding reads it back: fields its schema does not know are dropped. */
function withoutUnknownFields(t: ResourceTarget, current: KubeObject): KubeObject {
  const copy = structuredClone(current);
  const schema = schemaOfKind(t.type.apiVersion, t.type.kind);
  if (schema) checkFieldTypes(schema, copy, { prune: true });
  return copy;
}

function pinnedResourceVersion(patch: unknown): string | undefined {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return undefined;
  const rv = (patch as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}
