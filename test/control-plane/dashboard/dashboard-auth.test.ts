import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardSessions, SESSION_TTL_MS } from '../../../control-plane/dashboard/dashboard-sessions.js';
import { openTestApi, testToken, type TestApi } from '../support/test-api.js';
import { FakeClock } from '../../support/fake-clock.js';

const ORIGIN = 'https://127.0.0.1:6443';
const HOST = '127.0.0.1:6443';
let users: Record<string, { name: string; groups: string[] }>;
let api: TestApi;
let sessions: DashboardSessions;
let clock: FakeClock;

beforeEach(async () => {
  users = {
    [testToken]: { name: 'admin', groups: ['system:masters'] },
    'node-token': { name: 'system:node:<script>alert(1)</script>', groups: ['system:nodes'] },
    'metrics-token': { name: 'system:skiff:metrics', groups: ['system:monitoring'] },
  };
  const tokens = (t: string) => users[t];
  clock = new FakeClock();
  sessions = new DashboardSessions(tokens, clock);
  api = await openTestApi({ tokens, dashboard: sessions, clock });
});
afterEach(async () => { await api.close(); });

const login = (token: string, headers: Record<string, string> = { origin: ORIGIN, host: HOST }) =>
  api.app.request('/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ token }).toString() });

async function signIn(): Promise<string> {
  const res = await login(testToken);
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie')!;
  return cookie.split(';')[0]!;
}

const read = (cookie: string, path = '/api/v1/pods', init: RequestInit = {}) =>
  api.app.request(path, { ...init, headers: { cookie, 'x-skiff-dashboard': '1', ...(init.headers as Record<string, string>) } });

describe('dashboard sign-in', () => {
  it('sends visitors without a session to the login page, served with a strict CSP', async () => {
    const res = await api.app.request('/dashboard/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/login');
    const page = await api.app.request('/dashboard/login');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('name="token"');
  });

  it('opens an HttpOnly, Secure, SameSite=Strict session for a valid token from the page itself', async () => {
    const res = await login(testToken);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^skiff_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Strict');
    const index = await api.app.request('/dashboard/', { headers: { cookie: cookie.split(';')[0]! } });
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<script type="module" src="/dashboard/app.js">');
  });

  it('refuses cross-site and missing origins, bad tokens, agents and the metrics identity', async () => {
    expect((await login(testToken, { host: HOST })).status).toBe(403);
    expect((await login(testToken, { origin: 'https://evil.example', host: HOST })).status).toBe(403);
    expect((await login(testToken, { origin: 'http://127.0.0.1:6443', host: HOST })).status).toBe(403);
    expect((await login(testToken, { origin: 'null', host: HOST })).status).toBe(403);
    expect((await login('wrong')).status).toBe(401);
    expect((await login('')).status).toBe(400);
    expect((await login('x'.repeat(10_000))).status).toBe(400);
    const node = await login('node-token');
    expect(node.status).toBe(403);
    const text = await node.text();
    expect(text).not.toContain('<script>alert(1)');
    expect(text).toContain('&#60;script&#62;');
    expect((await login('metrics-token')).status).toBe(403);
    expect(sessions.size).toBe(0);
  });
});

describe('dashboard sessions on the API', () => {
  it('read the API only with the dashboard header, and never write', async () => {
    const cookie = await signIn();
    expect((await read(cookie)).status).toBe(200);
    expect((await api.app.request('/api/v1/pods', { headers: { cookie } })).status).toBe(401);
    const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'a/b' }] } });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await read(cookie, method === 'POST' ? '/api/v1/namespaces/default/pods' : '/api/v1/namespaces/default/pods/x', { method, body: method === 'DELETE' ? undefined : pod, headers: { 'content-type': 'application/json' } });
      expect(res.status, method).toBe(401);
    }
    // a wrong bearer token is not rescued by the cookie
    expect((await read(cookie, '/api/v1/pods', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await read('skiff_session=forged')).status).toBe(401);
  });

  it('end at sign-out, after eight hours, and when the token stops being valid', async () => {
    let cookie = await signIn();
    const foreign = await api.app.request('/dashboard/logout', { method: 'POST', headers: { cookie, origin: 'https://evil.example', host: HOST } });
    expect(foreign.status).toBe(403);
    expect((await read(cookie)).status).toBe(200);
    const out = await api.app.request('/dashboard/logout', { method: 'POST', headers: { cookie, origin: ORIGIN, host: HOST } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/skiff_session=;.*Max-Age=0/);
    expect((await read(cookie)).status).toBe(401);

    cookie = await signIn();
    clock.advance(SESSION_TTL_MS - 1000);
    expect((await read(cookie)).status).toBe(200);
    clock.advance(1000);
    expect((await read(cookie)).status).toBe(401);

    cookie = await signIn();
    delete users[testToken];
    expect((await read(cookie)).status).toBe(401);
  });

  it('serves only its own script and stylesheet', async () => {
    expect((await api.app.request('/dashboard/app.js')).headers.get('content-type')).toContain('text/javascript');
    expect((await api.app.request('/dashboard/app.css')).status).toBe(200);
    for (const path of ['/dashboard/other.js', '/dashboard/..%2f..%2fpackage.json', '/dashboard/index.html', '/dashboard/APP.js']) {
      expect((await api.app.request(path)).status, path).toBeGreaterThanOrEqual(300);
    }
  });
});
