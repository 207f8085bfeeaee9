// Bearer-token authentication: who is calling. Without a valid token a request is 401, except on the
// health probes and /version, which it reaches as the anonymous user (the authorizers allow it that).
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../../api/errors.js';
import { anonymousUser, type ApiUser } from './api-user.js';
import { publicPaths } from './authorization/public-info-authorizer.js';

export type { ApiUser } from './api-user.js';

/** Returns the user a token belongs to, or undefined for an unknown token. */
export type TokenAuthenticator = (token: string) => ApiUser | undefined | Promise<ApiUser | undefined>;

declare module 'hono' {
  interface ContextVariableMap {
    user: ApiUser;
  }
}

export function bearerAuth(tokens: TokenAuthenticator): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const user = match?.[1] ? await tokens(match[1]) : undefined;
    if (!user && !publicPaths.has(`/${c.get('requestPath').join('/')}`)) throw new UnauthorizedError();
    c.set('user', user ?? anonymousUser);
    return next();
  };
}
