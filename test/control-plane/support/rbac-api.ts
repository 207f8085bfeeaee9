// An API app with RBAC on: the bootstrap policy, an RbacCache and the ClusterRole aggregation
// controller over test resources; `as(user)` calls the app with that user's token.
import type { Hono } from 'hono';
import pino from 'pino';
import { createApiApp, type ApiAppOptions } from '../../../control-plane/api/api-app.js';
import type { ApiUser } from '../../../control-plane/api/api-user.js';
import { RbacCache } from '../../../control-plane/api/authorization/rbac/rbac-cache.js';
import { ClusterRoleAggregationController } from '../../../control-plane/controllers/rbac/clusterrole-aggregation-controller.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { ensureBootstrapRbac } from '../../../control-plane/resources/rbac-bootstrap.js';
import { openTestResources, type TestResources } from './test-resources.js';

export type Caller = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

export interface RbacApi extends TestResources {
  app: Hono;
  rbac: RbacCache;
  /** Calls as `user` (a token is made for it on first use). */
  as(user: ApiUser): Caller;
  admin: Caller;
  /** Waits until `check` passes (RBAC changes reach the cache through a watch). */
  eventually(check: () => Promise<void>, timeoutMs?: number): Promise<void>;
}

export async function openRbacApi(options: Partial<ApiAppOptions> = {}): Promise<RbacApi> {
  const t = await openTestResources();
  const logger = pino({ level: 'silent' });
  await ensureBootstrapRbac(t.resources);
  const rbac = new RbacCache(t.resources);
  await rbac.start();
  const aggregation = new ClusterRoleAggregationController({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
  aggregation.start();
  const users = new Map<string, ApiUser>();
  const app = createApiApp({ tokens: (token) => users.get(token), clock: t.clock, rbac, ...options, resources: t.resources });
  const as = (user: ApiUser): Caller => {
    const token = `token-${users.size}-${user.name.replace(/[^a-z0-9]/gi, '')}`;
    users.set(token, user);
    return (method, path, body, headers = {}) => Promise.resolve(app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    }));
  };
  const eventually = async (check: () => Promise<void>, timeoutMs = 10_000) => {
    for (const deadline = Date.now() + timeoutMs; ;) {
      try {
        await check();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  return {
    ...t, app, rbac, as, admin: as({ name: 'admin', groups: ['system:masters'] }), eventually,
    close: async () => {
      aggregation.stop();
      rbac.stop();
      await t.close();
    },
  };
}
