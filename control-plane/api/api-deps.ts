// What the resource handlers share: the typed store, time, log and exec sources, limits, logger.
import type { Context } from 'hono';
import type { WebSocketServer } from 'ws';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceType } from '../resources/resource-types.js';
import type { Clock } from '../../api/clock.js';
import type { Pod } from '../../api/types/pod.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { PodExecSource } from './streams/exec-session.js';
import type { ApiRequestObserver } from './request-observer.js';
import type { ServiceAccountTokens } from './service-account-tokens.js';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  tailLines?: number;
  timestamps: boolean;
  previous: boolean;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** Streams a container's log (implemented by the control plane over the node channel). */
export interface PodLogSource {
  stream(pod: Pod, options: PodLogOptions, write: (chunk: string) => void, signal: AbortSignal): Promise<void>;
}

/** The subset of a pino logger the API uses. */
export interface ApiLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ApiDeps {
  resources: ResourceStore;
  clock: Clock;
  podLogs: PodLogSource | undefined;
  maxBodyBytes: number;
  /** Upper bound for a watch without timeoutSeconds (the real API server uses ~30 min). */
  maxWatchSeconds: number;
  logger: ApiLogger | undefined;
  /** Request, watch and watch-event counts (metrics). */
  observer?: ApiRequestObserver | undefined;
  /** Runs exec commands in pods (bound late: the node channel starts after the API server). */
  exec: (() => PodExecSource | undefined) | undefined;
  /** Admission that needs the caller (RBAC escalation checks): runs on every create, update and patch before the write. */
  admit?: ((c: Context, type: ResourceType, obj: KubeObject) => Promise<void>) | undefined;
  /** Issues ServiceAccount tokens (TokenRequest); absent: the token subresource answers 405. */
  serviceAccountTokens?: ServiceAccountTokens | undefined;
  /** Takes accepted exec WebSocket upgrades over. */
  execSockets: WebSocketServer;
}
