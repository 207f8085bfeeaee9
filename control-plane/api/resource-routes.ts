// Routes every /api/v1/... and /apis/{group}/{version}/... request to the handler for its verb.
import type { Context, Hono } from 'hono';
import { BadRequestError, MethodNotAllowedError } from '../../api/errors.js';
import type { ApiDeps } from './api-deps.js';
import { bindPod } from './binding-handler.js';
import { evictPod } from './eviction-handler.js';
import { createObject, deleteCollection, deleteObject, getObject, listObjects, updateObject } from './object-handlers.js';
import { patchObject } from './patch-handler.js';
import { attachPod, execPod } from './streams/pod-exec-handler.js';
import { requestToken } from './token-request-handler.js';
import { portForwardPod } from './streams/port-forward-handler.js';
import { proxyPathOf, proxyToPod } from './streams/proxy-handler.js';
import { rawRequestPath } from './request-path.js';
import { streamPodLog } from './pod-log-handler.js';
import { getScale, patchScale, updateScale } from './scale-handler.js';
import { parseResourcePath, type ResourceTarget } from './resource-path.js';
import { isTrue } from './query-options.js';
import { upgradeContext } from './upgrade-requests.js';
import { watchObjects } from './watch-handler.js';

type Named = ResourceTarget & { name: string };
const isNamed = (t: ResourceTarget): t is Named => t.name !== undefined;

export function registerResourceRoutes(app: Hono, deps: ApiDeps): void {
  // the path's segments as decodeRequestPath checked and decoded them (once), not Hono's normalised path
  app.all('/api/v1/*', (c) => {
    const proxy = proxyPathOf(c.get('requestPath'), rawRequestPath(c), new URL(c.req.url).search);
    if (proxy) return proxyToPod(c, deps, proxy);
    return dispatch(c, deps, parseResourcePath('', 'v1', c.get('requestPath').slice(2)));
  });
  app.all('/apis/:group/:version/*', (c) => {
    const [, group = '', version = '', ...rest] = c.get('requestPath');
    return dispatch(c, deps, parseResourcePath(group, version, rest));
  });
}

async function dispatch(c: Context, deps: ApiDeps, t: ResourceTarget): Promise<Response> {
  const method = c.req.method;
  const verb = verbOf(c, t);
  if (!t.subresource && !t.type.verbs.includes(verb)) throw notAllowed(method, t);
  if (t.subresource === 'exec' && isNamed(t) && (method === 'GET' || method === 'POST')) return execPod(c, deps, t);
  if (t.subresource === 'attach' && isNamed(t) && (method === 'GET' || method === 'POST')) return attachPod(c, deps, t);
  if (t.subresource === 'portforward' && isNamed(t) && (method === 'GET' || method === 'POST')) return portForwardPod(c, deps, t);
  // an upgrade request anywhere else would hold its socket for a watch or a followed log
  if (upgradeContext(c)) throw new BadRequestError(`${t.type.plural}${t.subresource ? `/${t.subresource}` : ''} cannot be upgraded: only pods/exec, pods/attach and pods/portforward take an upgrade`);
  if (method === 'GET') {
    if (t.subresource === 'log' && isNamed(t)) return streamPodLog(c, deps, t);
    if (t.subresource === 'scale' && isNamed(t)) return getScale(c, deps, t);
    if (verb === 'watch') return watchObjects(c, deps, t);
    return isNamed(t) ? getObject(c, deps, t) : listObjects(c, deps, t);
  }
  if (method === 'POST') {
    if (t.subresource === 'binding' && isNamed(t)) return bindPod(c, deps, t);
    if (t.subresource === 'eviction' && isNamed(t)) return evictPod(c, deps, t);
    if (t.subresource === 'token' && isNamed(t)) return requestToken(c, deps, t);
    if (!isNamed(t)) return createObject(c, deps, t);
  }
  if (method === 'PUT' && isNamed(t) && t.subresource === 'scale') return updateScale(c, deps, t);
  if (method === 'PATCH' && isNamed(t) && t.subresource === 'scale') return patchScale(c, deps, t);
  if (method === 'PUT' && isNamed(t) && (!t.subresource || t.subresource === 'status' || t.subresource === 'finalize')) return updateObject(c, deps, t);
  if (method === 'PATCH' && isNamed(t) && (!t.subresource || t.subresource === 'status')) return patchObject(c, deps, t);
  if (method === 'DELETE' && !t.subresource) return isNamed(t) ? deleteObject(c, deps, t) : deleteCollection(c, deps, t);
  throw notAllowed(method, t);
}

function verbOf(c: Context, t: ResourceTarget): string {
  switch (c.req.method) {
    case 'GET': return t.watchPath || isTrue(c, 'watch') ? 'watch' : t.name ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return t.name ? 'delete' : 'deletecollection';
    default: return c.req.method.toLowerCase();
  }
}

const notAllowed = (method: string, t: ResourceTarget) =>
  new MethodNotAllowedError(`the server does not allow this method on the requested resource (${method} ${t.type.plural}${t.subresource ? `/${t.subresource}` : ''})`);
