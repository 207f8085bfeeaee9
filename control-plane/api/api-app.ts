// createApiApp: the Kubernetes-compatible REST API as a Hono app. Every request, WebSocket upgrades
// included, passes the same pipeline: path check -> authentication -> authorization -> routes.
import { Hono } from 'hono';
import { systemClock, type Clock } from '../../api/clock.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ApiDeps, ApiLogger, PodLogSource } from './api-deps.js';
import { bearerAuth, type TokenAuthenticator } from './auth.js';
import { authorizeRequests } from './authorization/authorize-request.js';
import type { Authorizer } from './authorization/authorizer.js';
import { clusterAuthorizer } from './authorization/cluster-authorizer.js';
import { registerDiscoveryRoutes } from './discovery-routes.js';
import type { PodExecSource } from './streams/exec-session.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import type { MetricsReader } from '../metrics/node-metrics-store.js';
import { registerOpenApiRoutes } from './openapi-routes.js';
import { getCookie } from 'hono/cookie';
import { dashboardAuthorizer } from '../dashboard/dashboard-authorizer.js';
import { registerDashboardRoutes } from '../dashboard/dashboard-routes.js';
import { SESSION_COOKIE, type DashboardSessions } from '../dashboard/dashboard-sessions.js';
import { monitoringAuthorizer } from './authorization/monitoring-authorizer.js';
import { rbacAuthorizer, type RbacPolicySource } from './authorization/rbac/rbac-authorizer.js';
import { rbacEscalationCheck } from './authorization/rbac/rbac-escalation.js';
import { execWebSocketServer } from './streams/pod-exec-handler.js';
import { registerPrometheusRoutes, type MetricsSource, type NodeMetricsScraper } from './prometheus-routes.js';
import { observeRequests, type ApiRequestObserver } from './request-observer.js';
import { defaultMaxBodyBytes } from './request-body.js';
import { decodeRequestPath } from './request-path.js';
import { registerResourceRoutes } from './resource-routes.js';
import { registerReviewRoutes } from './review-routes.js';
import { impersonation } from './impersonation.js';
import { auditRequests, type AuditSink } from './audit-log.js';
import type { ServiceAccountTokens } from './service-account-tokens.js';
import { RouteNotFoundError } from './route-not-found-error.js';
import { errorResponse, statusFromError } from './status-response.js';
import { registerVersionRoutes } from './version-routes.js';
import { ApiFlowControl } from './flow-control.js';

export interface ApiAppOptions {
  resources: ResourceStore;
  tokens: TokenAuthenticator;
  /** Default: clusterAuthorizer() (system:masters, node confinement, the monitoring identity, the dashboard's pages, public information). */
  authorizer?: Authorizer;
  podLogs?: PodLogSource;
  /** Runs `kubectl exec` commands; may be bound after the app is made. */
  exec?: () => PodExecSource | undefined;
  /** Usage agents report, served as metrics.k8s.io (kubectl top). */
  metrics?: MetricsReader;
  /** Registers more routes (behind authentication and authorization) before the Kubernetes resource routes. */
  extraRoutes?: (app: Hono) => void;
  clock?: Clock;
  logger?: ApiLogger;
  maxBodyBytes?: number;
  maxWatchSeconds?: number;
  /** Counts and times every request (metrics). */
  observer?: ApiRequestObserver;
  /** GET /metrics: the control plane's Prometheus metrics. */
  prometheus?: MetricsSource;
  /** GET /api/v1/nodes/{name}/proxy/metrics: an agent's, over the node channel. */
  nodeMetrics?: NodeMetricsScraper;
  /** RBAC (rbac.authorization.k8s.io roles and bindings, kept current by an RbacCache): an authorizer in the chain and escalation checks on writes to them. */
  rbac?: RbacPolicySource;
  /** Records every mutating request (who, what, when, outcome). */
  audit?: AuditSink;
  /** Issues ServiceAccount tokens (POST serviceaccounts/NAME/token). */
  serviceAccountTokens?: ServiceAccountTokens;
  /** Serves the web dashboard under /dashboard/ with these sessions. */
  dashboard?: DashboardSessions;
  /** Priority and fairness between system and user requests (flow-control.ts); default: DEFAULT_PRIORITY_LEVELS; false: none. */
  flowControl?: ApiFlowControl | false;
}

export function createApiApp(options: ApiAppOptions): Hono {
  const deps: ApiDeps = {
    resources: options.resources,
    clock: options.clock ?? systemClock,
    podLogs: options.podLogs,
    maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
    maxWatchSeconds: options.maxWatchSeconds ?? 1800,
    logger: options.logger,
    observer: options.observer,
    exec: options.exec,
    execSockets: execWebSocketServer(),
    serviceAccountTokens: options.serviceAccountTokens,
  };
  const authorizer = options.authorizer ?? clusterAuthorizer([
    monitoringAuthorizer, ...(options.dashboard ? [dashboardAuthorizer] : []), ...(options.rbac ? [rbacAuthorizer(options.rbac)] : []),
  ]);
  if (options.rbac) deps.admit = rbacEscalationCheck(options.rbac, authorizer);
  const app = new Hono();
  app.onError((err, c) => {
    const status = statusFromError(err);
    if (status.code >= 500) deps.logger?.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
    return errorResponse(c, err);
  });
  app.notFound((c) => errorResponse(c, new RouteNotFoundError()));
  if (options.observer) app.use('*', observeRequests(options.observer));
  app.use('*', async (c, next) => {
    await next();
    deps.logger?.debug({ method: c.req.method, path: c.req.path, status: c.res.status }, 'request');
  });
  const sessions = options.dashboard;
  app.use('*', decodeRequestPath);
  app.use('*', bearerAuth(options.tokens, sessions ? (c) => sessions.user(getCookie(c, SESSION_COOKIE)) : undefined));
  if (options.audit) app.use('*', auditRequests(options.audit, deps.clock));
  app.use('*', impersonation(authorizer));
  // after impersonation, before authorization, as kube-apiserver's APF filter
  if (options.flowControl !== false) app.use('*', (options.flowControl ?? new ApiFlowControl(deps.clock)).middleware());
  app.use('*', authorizeRequests(authorizer, options.logger));
  if (sessions) registerDashboardRoutes(app, { tokens: options.tokens, sessions });
  registerVersionRoutes(app);
  registerDiscoveryRoutes(app);
  registerOpenApiRoutes(app);
  options.extraRoutes?.(app);
  registerPrometheusRoutes(app, { metrics: options.prometheus, nodeMetrics: options.nodeMetrics, resources: deps.resources });
  registerMetricsRoutes(app, deps, options.metrics);
  registerReviewRoutes(app, deps, { authorizer, rbac: options.rbac });
  registerResourceRoutes(app, deps);
  return app;
}
