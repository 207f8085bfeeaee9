// Field managers on API writes (server-side apply's bookkeeping): creates, updates and patches
// record what their manager set (operation Update); an apply (application/apply-patch+yaml) owns
// exactly the fields it sends, fails with 409 and FieldManagerConflict causes where another
// manager owns a field it would change (unless force=true, which takes the field over), and removes
// fields it applied before and no longer sends when no other manager owns them.
import type { Context } from 'hono';
import { ApplyConflictError, ValidationError, type StatusCause } from '../../api/errors.js';
import { rfc3339, type Clock } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceType } from '../resources/resource-types.js';
import {
  changedPaths, fieldPaths, fromFieldsV1, keyPath, managedEntries, pathString, recordOwnership, removePath, sameValue, valueAt,
} from './managed-fields.js';
import { mergeApplied } from './structured-merge.js';

const MAX_MANAGER_LENGTH = 128;

/** fieldManager from the query, else the User-Agent's product (as the real server defaults it). */
export function fieldManagerOf(c: Context, type: ResourceType, apply: boolean): string {
  const given = c.req.query('fieldManager');
  const ref = { kind: 'PatchOptions', group: 'meta.k8s.io' };
  if (given !== undefined) {
    const causes: StatusCause[] = [];
    if (given.length > MAX_MANAGER_LENGTH) causes.push({ field: 'fieldManager', reason: 'FieldValueTooLong', message: `Too long: may not be more than ${MAX_MANAGER_LENGTH} bytes` });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(given)) causes.push({ field: 'fieldManager', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(given)}: must only contain printable characters` });
    if (causes.length) throw new ValidationError(ref, causes);
    if (given) return given;
  }
  if (apply) throw new ValidationError(ref, [{ field: 'fieldManager', reason: 'FieldValueRequired', message: 'Required value: is required for apply patch' }]);
  const agent = (c.req.header('user-agent') ?? '').split('/')[0]!.trim();
  void type;
  return agent.slice(0, MAX_MANAGER_LENGTH) || 'unknown';
}

export interface OwnershipContext {
  manager: string;
  apiVersion: string;
  clock: Clock;
}

/** A create: the manager owns every field it sent. */
export function ownCreated(obj: KubeObject, ctx: OwnershipContext): void {
  const owned = fieldPaths(obj);
  obj.metadata.managedFields = recordOwnership([], { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: rfc3339(ctx.clock.now()), owned, taken: owned }) as unknown[];
}

/** An update or patch (of the object or through a subresource such as scale): the manager takes over the fields it changed. */
export function ownUpdated(current: KubeObject, next: KubeObject, ctx: OwnershipContext & { subresource?: string }): void {
  const owned = changedPaths(current, next);
  const entries = managedEntries(current);
  next.metadata.managedFields = (owned.size ? recordOwnership(entries, {
    manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: rfc3339(ctx.clock.now()), owned, taken: owned,
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  }) : entries) as unknown[];
}

/** A manager as the real server prints it in conflicts: `"name"`, `"name" using apps/v1` for updaters. */
const printManager = (e: { manager: string; operation: string; apiVersion: string; subresource?: string }) =>
  `${JSON.stringify(e.manager)}${e.subresource ? ` with subresource ${JSON.stringify(e.subresource)}` : ''}${e.operation === 'Update' ? ` using ${e.apiVersion}` : ''}`;

/**
 * Server-side apply of `patch` (the applied configuration) onto `current`, or the object it creates.
 * `known` is the configuration without the fields its schema does not know (what ownership covers).
 */
export function applyConfiguration(current: KubeObject | undefined, patch: KubeObject, ctx: OwnershipContext & { force: boolean }, known: KubeObject = patch): KubeObject {
  const applied = fieldPaths(known);
  const time = rfc3339(ctx.clock.now());
  if (!current) {
    const obj = structuredClone(patch);
    obj.metadata = { ...obj.metadata, managedFields: recordOwnership([], { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time, owned: applied, taken: new Set() }) as unknown[] };
    return obj;
  }
  const entries = managedEntries(current);
  const conflicts: Array<{ manager: string; path: string }> = [];
  const taken = new Set<string>();
  const stillOwned = new Set<string>();
  for (const e of entries) {
    const fields = fromFieldsV1(e.fieldsV1);
    const self = e.manager === ctx.manager && e.operation === 'Apply' && !e.subresource;
    for (const key of fields) {
      if (self) continue;
      if (applied.has(key) && !keyPath(key).includes('.') && !sameValue(valueAt(patch, keyPath(key)), valueAt(current, keyPath(key)))) {
        conflicts.push({ manager: printManager(e), path: pathString(keyPath(key)) });
        taken.add(key);
      } else stillOwned.add(key);
    }
  }
  if (conflicts.length && !ctx.force) throw conflictError(conflicts);
  const next = mergeApplied(current, patch) as KubeObject;
  // fields this manager applied before and no longer applies go, unless someone else owns them
  const before = entries.find((e) => e.manager === ctx.manager && e.operation === 'Apply' && !e.subresource);
  const dropped = [...(before ? fromFieldsV1(before.fieldsV1) : [])].filter((k) => !applied.has(k) && !stillOwned.has(k))
    .sort((a, b) => keyPath(b).length - keyPath(a).length);
  for (const key of dropped) {
    const path = keyPath(key);
    // a list item goes only when nothing under it is owned by anyone
    if (path.at(-1) === '.') {
      const item = JSON.stringify(path.slice(0, -1)).slice(0, -1);
      if ([...stillOwned, ...applied].some((k) => k.startsWith(item))) continue;
    }
    removePath(next, path);
  }
  next.metadata = { ...next.metadata, managedFields: recordOwnership(entries, { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time, owned: applied, taken }) as unknown[] };
  return next;
}

function conflictError(conflicts: Array<{ manager: string; path: string }>): ApplyConflictError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: c.path }));
  if (conflicts.length === 1) return new ApplyConflictError(`Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.path}`, causes);
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)]);
  return new ApplyConflictError(`Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`, causes);
}
