// POST pods/{name}/binding: a scheduler's way to set spec.nodeName, once; as kube's binding storage,
// the same write sets PodScheduled=True (a pod bound by another scheduler shows as scheduled).
import type { Context } from 'hono';
import { BadRequestError, ConflictError } from '../../api/errors.js';
import { withPodCondition } from '../../api/pod-conditions.js';
import type { Pod } from '../../api/types/pod.js';
import type { ApiDeps } from './api-deps.js';
import { bindName, requireObject } from './object-handlers.js';
import { isDryRun } from './query-options.js';
import { decodeFields } from './field-validation.js';
import { readBodyFields } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';
import { successStatus } from './status-response.js';

export async function bindPod(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const { value, duplicateFields } = await readBodyFields(c, deps.maxBodyBytes);
  decodeFields(c, { apiVersion: 'v1', kind: 'Binding' }, value, duplicateFields);
  const binding = requireObject(value);
  bindName(binding, t.name);
  const target = binding['target'] as { kind?: string; name?: string } | undefined;
  if (!target?.name) throw new BadRequestError('target.name: Required value');
  if (target.kind && target.kind !== 'Node') throw new BadRequestError(`target.kind: Unsupported value: "${target.kind}": supported values: "Node"`);
  const pod = await deps.resources.get<Pod>(t.type, t.namespace, t.name);
  const ref = { kind: 'pods', name: t.name };
  if (pod.spec.nodeName) throw new ConflictError(ref, `pod ${t.name} is already assigned to node "${pod.spec.nodeName}"`);
  if (pod.metadata.deletionTimestamp) throw new ConflictError(ref, `pod ${t.name} is being deleted, cannot be assigned to a host`);
  // Guarded by the resourceVersion just read: a concurrent bind makes this a 409, as it should.
  const bound = withPodCondition({ ...pod, spec: { ...pod.spec, nodeName: target.name } }, { type: 'PodScheduled', status: 'True' }, deps.clock);
  await deps.resources.update(t.type, bound, { subresource: 'binding', dryRun: isDryRun(c) });
  return c.json(successStatus(201), 201);
}
