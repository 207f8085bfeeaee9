// POST pods/{name}/eviction (policy/v1 Eviction): a graceful delete with the Eviction's deleteOptions,
// once the pod's PodDisruptionBudget allows it (eviction-budget.ts; 429 when it does not).
import type { Context } from 'hono';
import { BadRequestError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { Eviction } from '../resources/kinds/autoscaling.js';
import { takeDisruption } from './eviction-budget.js';
import type { ApiDeps } from './api-deps.js';
import { bindName, bindNamespace, requireObject } from './object-handlers.js';
import { isDryRun } from './query-options.js';
import { decodeFields } from './field-validation.js';
import { readBodyFields } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';
import { successStatus } from './status-response.js';

const evictionVersions = ['policy/v1', 'policy/v1beta1'];

export async function evictPod(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const { value, duplicateFields } = await readBodyFields(c, deps.maxBodyBytes);
  const apiVersion = (value as { apiVersion?: unknown } | null)?.apiVersion;
  if (apiVersion !== undefined && !evictionVersions.includes(apiVersion as string)) {
    throw new BadRequestError(`unsupported Eviction apiVersion ${JSON.stringify(apiVersion)}: use policy/v1`);
  }
  decodeFields(c, { apiVersion: 'policy/v1', kind: 'Eviction', group: 'policy' }, value, duplicateFields);
  const eviction = requireObject(value) as Eviction;
  bindNamespace(eviction, t.namespace);
  bindName(eviction, t.name);
  const options = eviction.deleteOptions ?? {};
  const dryRun = isDryRun(c) || (options.dryRun ?? []).includes('All');
  const pod = await deps.resources.get<Pod>(t.type, t.namespace, t.name);
  await takeDisruption(deps.resources, deps.clock, pod, dryRun);
  await deps.resources.delete(t.type, t.namespace, t.name, {
    gracePeriodSeconds: options.gracePeriodSeconds,
    preconditions: options.preconditions,
    dryRun,
  });
  return c.json(successStatus(201), 201);
}
