// The one boundary where errors become Kubernetes Status responses (reason, code, details.causes).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, ApplyConflictError, InternalError, ServiceUnavailableError, TooManyRequestsError, ValidationError } from '../../api/errors.js';
import { StoreUnavailableError } from '../store/store.js';

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

/**
 * Maps any thrown value to a Status; unknown errors become 500 InternalError. A store that did not
 * answer in time is 503 with details.retryAfterSeconds (and a Retry-After header), as kube-apiserver
 * answers while etcd is unavailable: clients back off and retry instead of failing.
 */
export function statusFromError(err: unknown): Status {
  const apiErr = err instanceof ApiError ? err : err instanceof StoreUnavailableError
    ? new ServiceUnavailableError(`The storage is unavailable, try again later: ${err.message}`, undefined, { cause: err })
    : new InternalError(`Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: apiErr.message, reason: apiErr.reason, code: apiErr.code };
  const details: Record<string, unknown> = {};
  if (apiErr.details?.name !== undefined) details['name'] = apiErr.details.name;
  if (apiErr.details?.group) details['group'] = apiErr.details.group;
  if (apiErr.details?.kind) details['kind'] = apiErr.details.kind;
  if (apiErr instanceof ValidationError || apiErr instanceof ApplyConflictError || (apiErr instanceof TooManyRequestsError && apiErr.causes.length)) details['causes'] = apiErr.causes;
  if (err instanceof StoreUnavailableError) details['retryAfterSeconds'] = err.retryAfterSeconds;
  status.details = details;
  return status;
}

export const successStatus = (code: number, details?: Record<string, unknown>): Status =>
  ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code, ...(details ? { details } : {}) });

export function errorResponse(c: Context, err: unknown): Response {
  const status = statusFromError(err);
  const retryAfter = status.details?.['retryAfterSeconds'];
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  return c.json(status, status.code as ContentfulStatusCode);
}
