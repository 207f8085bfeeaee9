// Reconnect delays for the agent's MQTT session: exponential, capped, and jittered so a fleet that
// lost its broker at the same instant does not come back at the same instant.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Delay before reconnect attempt `attempt` (0 = first retry): "equal jitter", uniformly in
 * [cap/2, cap] where cap = min(maxMs, initialMs * 2^attempt). Never zero, never above maxMs.
 */
export function reconnectDelayMs(attempt: number, backoff: BackoffOptions, random: () => number = Math.random): number {
  const capMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(capMs / 2 + random() * (capMs / 2));
}
