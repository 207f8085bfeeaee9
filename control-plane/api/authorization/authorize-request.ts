// The one place where every request is authorized: plain routes, watches, streams and WebSocket
// upgrades (exec) all pass this middleware, after authentication and before routing.
import type { MiddlewareHandler } from 'hono';
import type { ApiLogger } from '../api-deps.js';
import type { Authorizer } from './authorizer.js';
import { forbiddenError } from './forbidden-message.js';
import { requestAttributes } from './request-attributes.js';

export function authorizeRequests(authorizer: Authorizer, logger?: ApiLogger): MiddlewareHandler {
  return async (c, next) => {
    const watch = ['true', '1'].includes(c.req.query('watch') ?? '');
    const attributes = requestAttributes(c.get('user'), c.req.method, c.get('requestPath'), watch);
    const decision = await authorizer.authorize(attributes);
    if (decision.decision !== 'allow') {
      logger?.debug({ user: attributes.user.name, attributes, reason: decision.reason }, 'request forbidden');
      throw forbiddenError(attributes, decision.reason);
    }
    return next();
  };
}
