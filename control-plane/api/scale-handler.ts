// The scale subresource (deployments/replicasets/statefulsets/replicationcontrollers `.../scale`): an autoscaling/v1 Scale view of spec.replicas,
// read with GET and written with PUT or PATCH (what `kubectl scale` and HPAs use).
import type { Context } from 'hono';
import { BadRequestError, ConflictError, UnsupportedMediaTypeError, ValidationError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { invalid } from '../resources/field-causes.js';
import type { Scale } from '../resources/kinds/autoscaling.js';
import type { LabelSelector } from '../resources/kinds/workloads.js';
import { formatLabelSelector } from '../resources/selector-object.js';
import type { ApiDeps } from './api-deps.js';
import { bindName, bindNamespace, requireObject } from './object-handlers.js';
import { fieldManagerOf, ownUpdated } from './field-ownership.js';
import { patchTypes } from './patch-handler.js';
import { isDryRun } from './query-options.js';
import { decodeFields } from './field-validation.js';
import { mediaType, readBodyFields } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';

type Named = ResourceTarget & { name: string };
interface Scalable extends KubeObject { spec?: { replicas?: number; selector?: LabelSelector }; status?: { replicas?: number } }

const maxAttempts = 5;
const scaleKind = { apiVersion: 'autoscaling/v1', kind: 'Scale', group: 'autoscaling' };

export function scaleOf(obj: Scalable): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    // a ReplicationController's selector is a plain label map
    status: { replicas: obj.status?.replicas ?? 0, selector: formatLabelSelector(obj.kind === 'ReplicationController' ? { matchLabels: obj.spec?.selector as Record<string, string> } : obj.spec?.selector) },
  };
}

export async function getScale(c: Context, deps: ApiDeps, t: Named): Promise<Response> {
  return c.json(scaleOf(await deps.resources.get<Scalable>(t.type, t.namespace, t.name)));
}

export async function updateScale(c: Context, deps: ApiDeps, t: Named): Promise<Response> {
  const { value, duplicateFields } = await readBodyFields(c, deps.maxBodyBytes, ['application/yaml']);
  decodeFields(c, scaleKind, value, duplicateFields);
  const body = requireObject(value) as Scale;
  return c.json(await writeScale(c, deps, t, () => body, body.metadata.resourceVersion));
}

export async function patchScale(c: Context, deps: ApiDeps, t: Named): Promise<Response> {
  const type = mediaType(c);
  if (!(type in patchTypes) || type === 'application/apply-patch+yaml') {
    throw new UnsupportedMediaTypeError(`the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json`);
  }
  const { value: patch, duplicateFields } = await readBodyFields(c, deps.maxBodyBytes, [type]);
  const apply = patchTypes[type as keyof typeof patchTypes];
  const pinnedValue = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  const pinned = typeof pinnedValue === 'string' && pinnedValue !== '' ? pinnedValue : undefined;
  let attempt = 0;
  return c.json(await writeScale(c, deps, t, (current) => {
    const next = apply(current, patch);
    decodeFields(c, scaleKind, next, duplicateFields, { warn: ++attempt === 1 });
    return requireObject(next) as Scale;
  }, pinned));
}

/** Reads the object, computes the new Scale from its current one, writes spec.replicas; retries conflicts unless pinned. */
async function writeScale(c: Context, deps: ApiDeps, t: Named, next: (current: Scale) => Scale, pinned: string | undefined): Promise<Scale> {
  for (let attempt = 1; ; attempt++) {
    const obj = await deps.resources.get<Scalable>(t.type, t.namespace, t.name);
    const scale = next(scaleOf(obj));
    bindNamespace(scale, t.namespace);
    bindName(scale, t.name);
    const replicas = scale.spec?.replicas;
    if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
      throw new BadRequestError(`spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be an integer`);
    }
    if ((replicas ?? 0) < 0) {
      throw new ValidationError({ group: 'autoscaling', kind: 'Scale', name: t.name }, [invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
    }
    const expected = pinned ?? obj.metadata.resourceVersion;
    if (pinned && pinned !== obj.metadata.resourceVersion) throw new ConflictError({ group: t.type.group, kind: t.type.plural, name: t.name });
    const updated = { ...obj, metadata: { ...obj.metadata, resourceVersion: expected }, spec: { ...obj.spec, replicas: replicas ?? 0 } };
    ownUpdated(obj, updated, { manager: fieldManagerOf(c, t.type, false), apiVersion: t.type.apiVersion, clock: deps.clock, subresource: 'scale' });
    try {
      return scaleOf(await deps.resources.update<Scalable>(t.type, updated, { dryRun: isDryRun(c) }));
    } catch (err) {
      if (!(err instanceof ConflictError) || pinned !== undefined || attempt >= maxAttempts) throw err;
    }
  }
}
