// One error class per failure. The HTTP boundary maps each to a Kubernetes Status (reason + code).

export interface StatusCause {
  field?: string;
  message: string;
  reason?: string; // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
}

export interface ResourceRef {
  group?: string;
  kind: string; // plural resource name for NotFound/AlreadyExists ("pods"), Kind for Invalid ("Pod")
  name?: string;
}

export abstract class ApiError extends Error {
  abstract readonly code: number;
  abstract readonly reason: string;
  readonly details: ResourceRef | undefined;
  constructor(message: string, details?: ResourceRef, options?: { cause?: unknown }) {
    super(message, options);
    this.details = details;
  }
}

const qualified = (ref: ResourceRef) => (ref.group ? `${ref.kind}.${ref.group}` : ref.kind);

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  readonly code = 404;
  readonly reason = 'NotFound';
  constructor(ref: ResourceRef, options?: { cause?: unknown }) {
    super(`${qualified(ref)} "${ref.name ?? ''}" not found`, ref, options);
  }
}

export class AlreadyExistsError extends ApiError {
  override readonly name = 'AlreadyExistsError';
  readonly code = 409;
  readonly reason = 'AlreadyExists';
  constructor(ref: ResourceRef, options?: { cause?: unknown }) {
    super(`${qualified(ref)} "${ref.name ?? ''}" already exists`, ref, options);
  }
}

export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  readonly code = 409;
  readonly reason = 'Conflict';
  constructor(ref: ResourceRef, message = 'the object has been modified; please apply your changes to the latest version and try again', options?: { cause?: unknown }) {
    super(`Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${message}`, ref, options);
  }
}

/** 409 from server-side apply: fields another manager owns (FieldManagerConflict causes). */
export class ApplyConflictError extends ApiError {
  override readonly name = 'ApplyConflictError';
  readonly code = 409;
  readonly reason = 'Conflict';
  readonly causes: StatusCause[];
  constructor(message: string, causes: StatusCause[]) {
    super(message);
    this.causes = causes;
  }
}

/** 422 Invalid: `details.kind` is the Kind ("Pod"), causes carry field paths. */
export class ValidationError extends ApiError {
  override readonly name = 'ValidationError';
  readonly code = 422;
  readonly reason = 'Invalid';
  readonly causes: StatusCause[];
  constructor(ref: ResourceRef, causes: StatusCause[], options?: { cause?: unknown }) {
    const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    const subject = ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
    super(`${subject} "${ref.name ?? ''}" is invalid: ${text}`, ref, options);
    this.causes = causes;
  }
}

export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  readonly code = 400;
  readonly reason = 'BadRequest';
}

export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  readonly code = 401;
  readonly reason = 'Unauthorized';
  constructor(message = 'Unauthorized') {
    super(message);
  }
}

export class ForbiddenError extends ApiError {
  override readonly name = 'ForbiddenError';
  readonly code = 403;
  readonly reason = 'Forbidden';
}

export class MethodNotAllowedError extends ApiError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 405;
  readonly reason = 'MethodNotAllowed';
}

/** 429: e.g. an eviction the pod's disruption budget does not allow now (retry later). */
export class TooManyRequestsError extends ApiError {
  override readonly name = 'TooManyRequestsError';
  readonly code = 429;
  readonly reason = 'TooManyRequests';
  readonly causes: StatusCause[];
  constructor(message: string, causes: StatusCause[] = [], details?: ResourceRef) {
    super(message, details);
    this.causes = causes;
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 415;
  readonly reason = 'UnsupportedMediaType';
}

export class RequestEntityTooLargeError extends ApiError {
  override readonly name = 'RequestEntityTooLargeError';
  readonly code = 413;
  readonly reason = 'RequestEntityTooLarge';
}

/** 410 Gone: the requested resourceVersion is older than the compaction horizon. */
export class ExpiredError extends ApiError {
  override readonly name = 'ExpiredError';
  readonly code = 410;
  readonly reason = 'Expired';
}

export class ServiceUnavailableError extends ApiError {
  override readonly name = 'ServiceUnavailableError';
  readonly code = 503;
  readonly reason = 'ServiceUnavailable';
}

export class TimeoutError extends ApiError {
  override readonly name = 'TimeoutError';
  readonly code = 504;
  readonly reason = 'Timeout';
}

export class InternalError extends ApiError {
  override readonly name = 'InternalError';
  readonly code = 500;
  readonly reason = 'InternalError';
}
