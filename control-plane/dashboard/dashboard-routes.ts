// The web dashboard, served by the API server under /dashboard/: a login page that takes a bearer
// token (the kubeconfig's) and opens a session cookie, and a read-only page that lists and watches
// the cluster through the ordinary API with that session (dashboard-sessions.ts, api/auth.ts).
// Forms are same-origin only (Origin checked: no login CSRF, no logout CSRF); every page is sent
// with a strict Content-Security-Policy (no inline script, no framing) and is never cached.
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiUser, TokenAuthenticator } from '../api/auth.js';
import { loadDashboardAssets, type DashboardAssets } from './dashboard-assets.js';
import { DashboardSessions, SESSION_COOKIE, SESSION_TTL_MS } from './dashboard-sessions.js';

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser posts forms with Origin: null
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Identities that may not open a dashboard session: agents, and the metrics-only identity. */
const REFUSED_GROUPS = ['system:nodes', 'system:monitoring'];
const MAX_TOKEN_CHARS = 4096;

export interface DashboardOptions {
  tokens: TokenAuthenticator;
  sessions: DashboardSessions;
  assets?: DashboardAssets;
}

export function registerDashboardRoutes(app: Hono, options: DashboardOptions): void {
  const assets = options.assets ?? loadDashboardAssets();
  const { sessions, tokens } = options;
  const page = (c: Context, body: string, status: 200 | 401 | 403 | 400 = 200) => c.body(body, status, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
  const loginPage = (c: Context, message = '', status: 200 | 401 | 403 | 400 = 200) =>
    page(c, assets.login.replace('<!--message-->', message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''), status);

  app.get('/dashboard', (c) => c.redirect('/dashboard/', 301));
  app.get('/dashboard/', async (c) => {
    if (!(await sessions.user(getCookie(c, SESSION_COOKIE)))) return c.redirect('/dashboard/login', 303);
    return page(c, assets.index);
  });
  app.get('/dashboard/login', (c) => loginPage(c));
  app.post('/dashboard/login', async (c) => {
    if (!isSameOrigin(c)) return loginPage(c, 'This form only works from the dashboard itself.', 403);
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const token = typeof form['token'] === 'string' ? form['token'].trim() : '';
    if (!token || token.length > MAX_TOKEN_CHARS) return loginPage(c, 'Paste a bearer token (the token of your kubeconfig).', 400);
    const user: ApiUser | undefined = await tokens(token);
    if (!user) return loginPage(c, 'That token is not valid for this cluster.', 401);
    if (user.groups?.some((g) => REFUSED_GROUPS.includes(g))) return loginPage(c, `${user.name} cannot use the dashboard.`, 403);
    setCookie(c, SESSION_COOKIE, sessions.open(token), { path: '/', httpOnly: true, secure: true, sameSite: 'Strict', maxAge: SESSION_TTL_MS / 1000 });
    return c.redirect('/dashboard/', 303);
  });
  app.post('/dashboard/logout', (c) => {
    if (!isSameOrigin(c)) return loginPage(c, 'This form only works from the dashboard itself.', 403);
    sessions.close(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.redirect('/dashboard/login', 303);
  });
  app.get('/dashboard/:file{[a-z-]+\\.(js|css)}', (c) => {
    const asset = assets.files.get(c.req.param('file'));
    if (!asset) return c.body('not found', 404, SECURITY_HEADERS);
    return c.body(asset.body, 200, { 'content-type': asset.contentType, ...SECURITY_HEADERS });
  });
}

/** Browsers send Origin on every POST; a form posted from another site carries that site's. */
function isSameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (!origin || !host) return false;
  try {
    const url = new URL(origin);
    return url.protocol === 'https:' && url.host === host;
  } catch {
    return false;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
