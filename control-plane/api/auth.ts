// Bearer-token authentication for every path except health and version probes. A dashboard
// session (cookie) stands in for the token only on reads the dashboard's own script makes: GET or
// HEAD with the X-Skiff-Dashboard header, which a cross-site page cannot send without a CORS
// preflight this API never grants. A write never rides on a cookie.
import type { Context, MiddlewareHandler } from 'hono';
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

/** The user of a dashboard session cookie (control-plane/dashboard/dashboard-sessions.ts). */
export type SessionAuthenticator = (c: Context) => Promise<ApiUser | undefined>;

export const DASHBOARD_HEADER = 'x-skiff-dashboard';

export function bearerAuth(tokens: TokenAuthenticator, session?: SessionAuthenticator): MiddlewareHandler {
  return async (c, next) => {
    if (publicPaths.has(c.req.path) || c.req.path === '/dashboard' || c.req.path.startsWith('/dashboard/')) return next(); // the dashboard checks its own
    const header = c.req.header('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    let user = match?.[1] ? await tokens(match[1]) : undefined;
    const isRead = c.req.method === 'GET' || c.req.method === 'HEAD';
    if (!user && header === undefined && session && isRead && c.req.header(DASHBOARD_HEADER) === '1') user = await session(c);
    if (!user) throw new UnauthorizedError();
    c.set('user', user);
    return next();
  };
}
