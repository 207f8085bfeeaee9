// The API server's request metrics, with the names and labels kube-apiserver uses, so existing
// dashboards and alerts (request rate, error ratio, latency by verb and resource) work unchanged.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApiRequestObserver, RequestLabels, WatchStreamObserver } from '../api/request-observer.js';

const REQUEST_LABELS = ['verb', 'group', 'version', 'resource', 'subresource', 'scope'] as const;
/** Seconds: a watch-cache read takes well under a millisecond, a slow etcd write tens of them. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createApiMetrics(registry: Registry): ApiRequestObserver {
  const requests = new Counter({
    name: 'apiserver_request_total', help: 'API requests by verb, group, version, resource, subresource, scope and HTTP code.',
    labelNames: [...REQUEST_LABELS, 'code'], registers: [registry],
  });
  const durations = new Histogram({
    name: 'apiserver_request_duration_seconds', help: 'Time to answer an API request (watches, followed logs and exec excluded).',
    labelNames: REQUEST_LABELS, buckets: DURATION_BUCKETS, registers: [registry],
  });
  const longRunning = new Gauge({
    name: 'apiserver_longrunning_requests', help: 'Open long-running requests (watch streams) by verb, group, version, resource and scope.',
    labelNames: ['verb', 'group', 'version', 'resource', 'scope'], registers: [registry],
  });
  const watchEvents = new Counter({
    name: 'apiserver_watch_events_total', help: 'Events written to watch streams, by group, version and resource.',
    labelNames: ['group', 'version', 'resource'], registers: [registry],
  });
  const pick = (l: RequestLabels) => ({ verb: l.verb, group: l.group, version: l.version, resource: l.resource, subresource: l.subresource, scope: l.scope });
  return {
    request(labels, code, durationMs) {
      requests.inc({ ...pick(labels), code: String(code) });
      if (durationMs !== undefined) durations.observe(pick(labels), durationMs / 1000);
    },
    watchOpened(labels): WatchStreamObserver {
      const open = longRunning.labels({ verb: labels.verb, group: labels.group, version: labels.version, resource: labels.resource, scope: labels.scope });
      const sent = watchEvents.labels({ group: labels.group, version: labels.version, resource: labels.resource });
      open.inc();
      let isClosed = false;
      return {
        eventSent: () => sent.inc(),
        closed: () => {
          if (isClosed) return;
          isClosed = true;
          open.dec();
        },
      };
    },
  };
}
