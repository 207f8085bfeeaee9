// Bearer-token authentication: who is calling. Without a valid token a request is 401, except on the
// health probes, /version and the dashboard's own pages, which it reaches as the anonymous user (the
// authorizers allow it those). A dashboard session (cookie) stands in for the token only on reads
// the dashboard's own script makes: GET or HEAD with the X-Skiff-Dashboard header, which a
// cross-site page cannot send without a CORS preflight this API never grants. A write never rides
// on a cookie.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Context, MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../../api/errors.js';
import { anonymousUser, withAuthenticatedGroup, type ApiUser } from './api-user.js';
import { publicPaths } from './authorization/public-info-authorizer.js';

export type { ApiUser } from './api-user.js';

/** Returns the user a token belongs to, or undefined for an unknown token. */
export type TokenAuthenticator = (token: string) => ApiUser | undefined | Promise<ApiUser | undefined>;

/** The user of a dashboard session cookie (control-plane/dashboard/dashboard-sessions.ts). */
export type SessionAuthenticator = (c: Context) => Promise<ApiUser | undefined>;

export const DASHBOARD_HEADER = 'x-skiff-dashboard';

declare module 'hono' {
  interface ContextVariableMap {
    user: ApiUser;
  }
}

/** The dashboard's pages check their session themselves (dashboard-routes.ts). */
const isDashboardPage = (path: string) => path === '/dashboard' || path.startsWith('/dashboard/');

export function bearerAuth(tokens: TokenAuthenticator, session?: SessionAuthenticator): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    let user = match?.[1] ? await tokens(match[1]) : undefined;
    if (!user && header === undefined) user = clientCertificateUser(c);
    const isRead = c.req.method === 'GET' || c.req.method === 'HEAD';
    if (!user && header === undefined && session && isRead && c.req.header(DASHBOARD_HEADER) === '1') user = await session(c);
    const path = `/${c.get('requestPath').join('/')}`;
    if (!user && !publicPaths.has(path) && !(session && isDashboardPage(path))) throw new UnauthorizedError();
    c.set('user', user ? withAuthenticatedGroup(user) : anonymousUser);
    return next();
  };
}

/**
 * The user of a verified TLS client certificate (signed by the cluster CA, which the server asks
 * for): CN is the name, each O a group, as kube-apiserver's x509 authenticator. Unverified or absent
 * certificates authenticate nobody.
 */
export function clientCertificateUser(c: Context): ApiUser | undefined {
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket as TLSSocket | undefined;
  if (!socket?.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.['CN'];
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject?.['O'];
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups };
}
