// 404 for a path the server does not serve (no named object), worded like the real API server.
import { ApiError } from '../../api/errors.js';

export class RouteNotFoundError extends ApiError {
  override readonly name = 'RouteNotFoundError';
  readonly code = 404;
  readonly reason = 'NotFound';
  constructor() {
    super('the server could not find the requested resource');
  }
}
