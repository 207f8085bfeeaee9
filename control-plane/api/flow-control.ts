// Priority and fairness for API requests (decision 057, after Kubernetes' API Priority and
// Fairness), between authentication and authorization, as in kube-apiserver:
// - exempt (never queued): health and version probes, long-running requests (watches, exec,
//   attach, port-forward, proxies, followed logs: they hold no seat, as APF's long-running ones),
//   and system:masters (APF's `exempt` level);
// - `system`: nodes and other `system:` users (kube-system service accounts, controllers): their
//   own seats, so a user's burst never delays a lease, a node status or a controller's read;
// - `workload`: everyone else (service accounts of other namespaces included), one flow per user: a user's mass create queues behind itself, never
//   ahead of another user's request; a full queue or a long wait answers 429 with Retry-After.
import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../../api/clock.js';
import { TooManyRequestsError } from '../../api/errors.js';
import { FairQueues, RequestRejectedError, type FairQueuesObserver, type FairQueuesOptions } from '../flow-control/fair-queues.js';
import type { ApiUser } from './api-user.js';
import { errorResponse } from './status-response.js';
import { upgradeContext } from './upgrade-requests.js';

export type PriorityLevelName = 'system' | 'workload';
export type PriorityLevelConfig = Omit<FairQueuesOptions, 'clock' | 'observer'>;

/** What the flow control's metrics see (control-plane/metrics/flow-control-metrics.ts). */
export interface FlowControlObserver {
  /** The observer of one level; `state` reads its seats in use and requests waiting, at any time. */
  level(name: PriorityLevelName, seats: number, state: () => { executing: number; waiting: number }): FairQueuesObserver;
  /** A request that holds no seat (a probe, a long-running request, system:masters) went through. */
  exempt(): void;
}

/** Generous enough that no ordinary client meets them; a burst of thousands queues, then is refused. */
export const DEFAULT_PRIORITY_LEVELS: Record<PriorityLevelName, PriorityLevelConfig> = {
  system: { seats: 32, queueLengthPerFlow: 500, queueLengthTotal: 5_000, queueTimeoutMs: 60_000 },
  workload: { seats: 16, queueLengthPerFlow: 200, queueLengthTotal: 2_000, queueTimeoutMs: 60_000 },
};

const PROBES = new Set(['healthz', 'readyz', 'livez', 'version']);
const LONG_RUNNING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Requests that hold no seat: probes, and requests that last as long as their client wants. */
export function isExempt(path: readonly string[], query: (name: string) => string | undefined, upgrade: boolean, user: ApiUser): boolean {
  if (path.length >= 1 && PROBES.has(path[0]!)) return true;
  if (upgrade) return true;
  const watch = query('watch');
  if (watch === 'true' || watch === '1' || path.includes('watch')) return true;
  if (path.some((segment) => LONG_RUNNING_SUBRESOURCES.has(segment))) return true;
  if (path.at(-1) === 'log' && (query('follow') === 'true' || query('follow') === '1')) return true;
  return (user.groups ?? []).includes('system:masters');
}

/** The level and flow of a request that is not exempt. */
export function classify(user: ApiUser): { level: PriorityLevelName; flow: string } {
  // Service accounts outside kube-system are workloads (APF's `service-accounts` level): a pod's token
  // must not reach the seats of nodes and controllers.
  const serviceAccount = user.name.startsWith('system:serviceaccount:');
  const system = serviceAccount
    ? user.name.startsWith('system:serviceaccount:kube-system:')
    : user.name.startsWith('system:') || (user.groups ?? []).includes('system:nodes');
  return { level: system ? 'system' : 'workload', flow: user.name };
}

export class ApiFlowControl {
  readonly levels: Record<PriorityLevelName, FairQueues>;

  constructor(clock: Clock, config: Partial<Record<PriorityLevelName, PriorityLevelConfig>> = {}, private readonly observer?: FlowControlObserver) {
    const level = (name: PriorityLevelName) => {
      const options = { ...DEFAULT_PRIORITY_LEVELS[name], ...config[name] };
      return new FairQueues({ ...options, clock, observer: observer?.level(name, options.seats, () => this.levels[name]) });
    };
    this.levels = { system: level('system'), workload: level('workload') };
  }

  /** The Hono middleware: place it after authentication (it reads `user`). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const user: ApiUser = c.get('user');
      // a real upgrade (the connection taken over), not any request that carries an Upgrade header
      const upgrade = upgradeContext(c) !== undefined;
      if (isExempt(c.get('requestPath'), (name) => c.req.query(name), upgrade, user)) {
        this.observer?.exempt();
        return next();
      }
      const { level, flow } = classify(user);
      let release: () => void;
      try {
        release = await this.levels[level].acquire(flow);
      } catch (error) {
        if (!(error instanceof RequestRejectedError)) throw error;
        c.header('Retry-After', String(error.retryAfterSeconds));
        return errorResponse(c, new TooManyRequestsError(`${error.message} (priority level ${level}); retry after ${error.retryAfterSeconds} s`));
      }
      try {
        await next();
      } finally {
        release();
      }
    };
  }
}
