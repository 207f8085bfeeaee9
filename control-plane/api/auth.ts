// Bearer-token authentication for every path except health and version probes.
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../../api/errors.js';

export interface ApiUser {
  name: string;
  groups?: string[];
}

/** Returns the user a token belongs to, or undefined for an unknown token. */
export type TokenAuthenticator = (token: string) => ApiUser | undefined | Promise<ApiUser | undefined>;

declare module 'hono' {
  interface ContextVariableMap {
    user: ApiUser;
  }
}

const publicPaths = new Set(['/healthz', '/readyz', '/livez', '/version']);

export function bearerAuth(tokens: TokenAuthenticator): MiddlewareHandler {
  return async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const user = match?.[1] ? await tokens(match[1]) : undefined;
    if (!user) throw new UnauthorizedError();
    c.set('user', user);
    return next();
  };
}
