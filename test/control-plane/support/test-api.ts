// An API app over test resources, with one valid token, plus request helpers for app.request().
import type { Hono } from 'hono';
import { createApiApp, type ApiAppOptions } from '../../../control-plane/api/api-app.js';
import { openTestResources, type TestResources } from './test-resources.js';

export const testToken = 'test-token';

export interface TestApi extends TestResources {
  app: Hono;
  /** app.request with the bearer token and JSON body/headers filled in. */
  call(method: string, path: string, init?: { body?: unknown; contentType?: string; accept?: string; headers?: Record<string, string> }): Promise<Response>;
}

export async function openTestApi(options: Partial<ApiAppOptions> & { bookmarkIntervalMs?: number; keepRevisions?: number } = {}): Promise<TestApi> {
  const t = await openTestResources({ bookmarkIntervalMs: options.bookmarkIntervalMs, keepRevisions: options.keepRevisions });
  const app = createApiApp({
    tokens: (token) => (token === testToken ? { name: 'admin', groups: ['system:masters'] } : undefined),
    clock: t.clock,
    ...options,
    resources: t.resources,
  });
  const call: TestApi['call'] = (method, path, init = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${testToken}`, ...init.headers };
    if (init.accept) headers['accept'] = init.accept;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] = init.contentType ?? 'application/json';
    }
    return Promise.resolve(app.request(path, { method, headers, body }));
  };
  return { ...t, app, call };
}

export const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** Reads newline-delimited JSON events from a streaming response until `count` arrived or it ends. */
export async function readEvents(res: Response, count: number): Promise<Array<{ type: string; object: any }>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ type: string; object: any }> = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  }
  reader.releaseLock();
  return events;
}
