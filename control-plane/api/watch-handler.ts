// ?watch=true: a chunked stream of one JSON watch event per line, headers sent at once, closed on timeout.
import type { Context } from 'hono';
import type { ClockTimer } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import { parseFieldSelector } from '../resources/field-selector.js';
import { parseLabelSelector } from '../resources/label-selector.js';
import type { WatchEventType } from '../resources/resource-store.js';
import type { ApiDeps } from './api-deps.js';
import { optionalInt, isTrue } from './query-options.js';
import { requestLabels } from './request-observer.js';
import type { ResourceTarget } from './resource-path.js';
import { statusFromError } from './status-response.js';
import { buildTable, tableRequest } from './tables/table-response.js';

export function watchObjects(c: Context, deps: ApiDeps, t: ResourceTarget): Response {
  const labelSelector = c.req.query('labelSelector') || undefined;
  let fieldSelector = c.req.query('fieldSelector') || undefined;
  // Bad selectors must be a 400 before the stream starts, not an ERROR event inside it.
  parseLabelSelector(labelSelector);
  parseFieldSelector(t.type, fieldSelector);
  if (t.name) fieldSelector = [fieldSelector, `metadata.name=${t.name}`].filter(Boolean).join(',');
  const table = tableRequest(c);
  const timeoutSeconds = Math.min(optionalInt(c, 'timeoutSeconds') ?? deps.maxWatchSeconds, deps.maxWatchSeconds);
  const encoder = new TextEncoder();
  let cleanup = () => {};
  let firstTable = true;
  const labels = deps.observer ? requestLabels(c.req.method, c.req.path, new URL(c.req.url).searchParams) : undefined;

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      let timer: ClockTimer | undefined;
      let watch: { cancel(): void } | undefined;
      const observed = labels && deps.observer?.watchOpened(labels);
      cleanup = () => {
        if (closed) return;
        closed = true;
        observed?.closed();
        watch?.cancel();
        timer?.cancel();
        c.req.raw.signal.removeEventListener('abort', cleanup);
        try { controller.close(); } catch { /* already closed by the client going away */ }
      };
      const send = (type: WatchEventType, object: unknown) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`${JSON.stringify({ type, object })}\n`));
        observed?.eventSent();
      };
      const onEvent = (type: WatchEventType, obj: KubeObject) => {
        if (table && type !== 'BOOKMARK') {
          send(type, buildTable(t.type, [obj], { resourceVersion: obj.metadata.resourceVersion }, table, deps.clock.now(), firstTable));
          firstTable = false;
        } else send(type, obj);
      };
      const onError = (err: Error) => {
        send('ERROR', statusFromError(err));
        cleanup();
      };
      c.req.raw.signal.addEventListener('abort', cleanup);
      timer = deps.clock.setTimeout(cleanup, timeoutSeconds * 1000);
      watch = deps.resources.watch(t.type, {
        namespace: t.namespace, labelSelector, fieldSelector,
        resourceVersion: c.req.query('resourceVersion') ?? '', allowBookmarks: isTrue(c, 'allowWatchBookmarks'),
      }, onEvent, onError);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' },
  });
}
