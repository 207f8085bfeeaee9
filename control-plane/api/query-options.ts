// Query parameters of the Kubernetes REST conventions, read into typed options.
import type { Context } from 'hono';
import { BadRequestError } from '../../api/errors.js';
import type { ListOptions } from '../resources/resource-store.js';

export const isDryRun = (c: Context): boolean => c.req.queries('dryRun')?.includes('All') ?? false;

export function listOptions(c: Context, namespace: string | undefined): ListOptions {
  const q = (k: string) => c.req.query(k) || undefined;
  return {
    namespace,
    labelSelector: q('labelSelector'),
    fieldSelector: q('fieldSelector'),
    limit: optionalInt(c, 'limit'),
    continue: q('continue'),
    resourceVersion: q('resourceVersion'),
  };
}

export function optionalInt(c: Context, key: string): number | undefined {
  const raw = c.req.query(key);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new BadRequestError(`invalid value for ${key}: ${raw}`);
  return Number(raw);
}

export const isTrue = (c: Context, key: string): boolean => ['true', '1'].includes(c.req.query(key) ?? '');
