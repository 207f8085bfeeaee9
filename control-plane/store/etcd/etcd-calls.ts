// Calls to etcd within one deadline, as clientv3's retry interceptor and kube-apiserver do: a
// transient fault (connection refused or dropped, a slow answer, an open breaker) is retried with
// backoff until the call's deadline; a write whose outcome is unknown (the connection dropped after
// it was sent) is never replayed blindly but settled by reading the key; what still fails by the
// deadline is StoreUnavailableError (the API answers 503 with Retry-After).
import { isBrokenCircuitError } from 'cockatiel';
import { isRecoverableError } from 'etcd3';
import type { Clock } from '../../../api/clock.js';
import { StoreUnavailableError } from '../store.js';

export interface EtcdCallPolicy {
  /** The whole call's deadline, retries included. */
  timeoutMs: number;
  /** The first retry waits about this long; each further one twice as long (jittered), up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  clock: Clock;
}

/** What reading the key told about a write whose answer was lost. */
export type Settled<T> = { done: T } | 'retry';

/** A failure worth another try: the server may answer next time (etcd3's recoverable gRPC codes, an open breaker). */
export function isTransientEtcdError(error: unknown): error is Error {
  return error instanceof Error && (isRecoverableError(error) || isBrokenCircuitError(error));
}

export class EtcdCalls {
  constructor(private readonly policy: EtcdCallPolicy) {}

  /**
   * A read (or any call that is safe to repeat): retried on transient faults until the deadline.
   * `call` gets gRPC's deadline for the attempt; `deadline` (on the policy's clock) is for a read
   * that is part of a write's call.
   */
  read<T>(what: string, call: (deadline: number) => Promise<T>, deadline = this.#deadline()): Promise<T> {
    return this.#retrying(what, deadline, async (attempt) => ({ done: await call(attempt) }));
  }

  /**
   * A write: retried while it certainly did not apply. After a transient failure `settle` (given the
   * call's deadline on the policy's clock, for a read retried within it) tells whether it applied (`done`),
   * did not (`'retry'`), or throws the write's own error (a conflict).
   */
  write<T>(what: string, call: (deadline: number) => Promise<T>, settle: (deadline: number) => Promise<Settled<T>>): Promise<T> {
    const deadline = this.#deadline();
    let isUnsettled = false;
    return this.#retrying(what, deadline, async (attempt) => {
      if (isUnsettled) {
        const settled = await settle(deadline);
        if (settled !== 'retry') return settled;
      }
      isUnsettled = true;
      return { done: await call(attempt) };
    });
  }

  #deadline(): number {
    return this.policy.clock.now() + this.policy.timeoutMs;
  }

  /** `deadline` is on the policy's clock; each attempt gets gRPC's (wall-clock) deadline for what is left of it. */
  async #retrying<T>(what: string, deadline: number, attempt: (grpcDeadline: number) => Promise<{ done: T }>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return (await attempt(Date.now() + Math.max(0, deadline - this.policy.clock.now()))).done;
      } catch (error) {
        if (!isTransientEtcdError(error)) throw error;
        const delayMs = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** failures) * (0.5 + Math.random() / 2);
        if (this.policy.clock.now() + delayMs >= deadline) {
          throw new StoreUnavailableError(`etcd did not complete ${what} within ${this.policy.timeoutMs} ms: ${error.message}`, { cause: error });
        }
        await new Promise<void>((resolve) => this.policy.clock.setTimeout(resolve, delayMs));
      }
    }
  }
}
