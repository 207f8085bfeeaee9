// POST pods/{name}/eviction (policy/v1 Eviction): a graceful delete with the Eviction's deleteOptions.
// skiff has no PodDisruptionBudgets, so every eviction is allowed.
import type { Context } from 'hono';
import { BadRequestError } from '../../api/errors.js';
import type { Eviction } from '../resources/kinds/autoscaling.js';
import type { ApiDeps } from './api-deps.js';
import { bindName, bindNamespace, requireObject } from './object-handlers.js';
import { isDryRun } from './query-options.js';
import { readBody } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';
import { successStatus } from './status-response.js';

const evictionVersions = ['policy/v1', 'policy/v1beta1'];

export async function evictPod(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const eviction = requireObject(await readBody(c, deps.maxBodyBytes)) as Eviction;
  if (eviction.apiVersion && !evictionVersions.includes(eviction.apiVersion)) {
    throw new BadRequestError(`unsupported Eviction apiVersion ${eviction.apiVersion}: use policy/v1`);
  }
  bindNamespace(eviction, t.namespace);
  bindName(eviction, t.name);
  const options = eviction.deleteOptions ?? {};
  await deps.resources.delete(t.type, t.namespace, t.name, {
    gracePeriodSeconds: options.gracePeriodSeconds,
    preconditions: options.preconditions,
    dryRun: isDryRun(c) || (options.dryRun ?? []).includes('All'),
  });
  return c.json(successStatus(201), 201);
}
