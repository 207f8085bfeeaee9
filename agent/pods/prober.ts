// One probe of one container run, as the kubelet's prober worker: first attempt after
// initialDelaySeconds, then every periodSeconds (counted from the end of the previous attempt, so
// attempts never overlap), each cut off after timeoutSeconds; the result flips only after
// successThreshold consecutive successes or failureThreshold consecutive failures. Time comes
// from the injected clock.
import type { Clock, ClockTimer } from '../../api/clock.js';

export interface HttpGetAction {
  path?: string;
  port?: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: Array<{ name?: string; value?: string }>;
}

export interface TcpSocketAction {
  port?: number | string;
  host?: string;
}

/** core/v1 Probe (the handler fields skiff knows; the api types leave probes untyped). */
export interface ProbeSpec {
  exec?: { command?: string[] };
  httpGet?: HttpGetAction;
  tcpSocket?: TcpSocketAction;
  grpc?: { port?: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export type ProbeKind = 'Startup' | 'Liveness' | 'Readiness';

/** `errored`: the probe could not be run at all (the kubelet's "probe errored", e.g. an unknown named port). */
export type ProbeOutcome = { ok: true } | { ok: false; message: string; errored?: boolean };

/** Runs one attempt; must settle soon after `signal` aborts (the attempt timed out). */
export type ProbeAttempt = (signal: AbortSignal) => Promise<ProbeOutcome>;

export interface ProberHooks {
  /** The settled result changed: true = Success, false = Failure. */
  onResult(success: boolean): void;
  /** Each failed attempt, with why (the kubelet's Unhealthy event); `errored`: it could not be run. */
  onAttemptFailed(message: string, errored: boolean): void;
}

export class ProbeTimeoutError extends Error {
  override readonly name = 'ProbeTimeoutError';
}

const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

export class Prober {
  /** Settings after defaults (timeoutSeconds is what the handler is given as its own deadline). */
  static settings(kind: ProbeKind, spec: ProbeSpec): typeof DEFAULTS {
    const positive = (value: number | undefined, fallback: number) => (value !== undefined && value > 0 ? value : fallback);
    return {
      initialDelaySeconds: Math.max(0, spec.initialDelaySeconds ?? 0),
      periodSeconds: positive(spec.periodSeconds, DEFAULTS.periodSeconds),
      timeoutSeconds: positive(spec.timeoutSeconds, DEFAULTS.timeoutSeconds),
      // liveness and startup probes must use 1 (the API server enforces it; an agent must not loop on it)
      successThreshold: kind === 'Readiness' ? positive(spec.successThreshold, DEFAULTS.successThreshold) : 1,
      failureThreshold: positive(spec.failureThreshold, DEFAULTS.failureThreshold),
    };
  }

  #timer: ClockTimer | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  #result: boolean | undefined;
  readonly #settings: typeof DEFAULTS;

  constructor(
    readonly kind: ProbeKind,
    spec: ProbeSpec,
    private readonly attempt: ProbeAttempt,
    private readonly clock: Clock,
    private readonly hooks: ProberHooks,
    /** What a timed-out attempt reports (default: `probe timed out after Ns`). */
    private readonly timeoutMessage?: string,
  ) {
    this.#settings = Prober.settings(kind, spec);
  }

  /** The settled result so far (undefined before the thresholds were first met). */
  get result(): boolean | undefined {
    return this.#result;
  }

  start(): void {
    this.#schedule(this.#settings.initialDelaySeconds * 1000);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.clock.setTimeout(() => void this.#probe(), delayMs);
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    const outcome = await this.#attemptWithTimeout();
    if (this.#stopped) return;
    if (outcome.ok) {
      this.#failures = 0;
      this.#successes++;
      if (this.#successes >= this.#settings.successThreshold) this.#settle(true);
    } else {
      this.#successes = 0;
      this.#failures++;
      this.hooks.onAttemptFailed(outcome.message, outcome.errored === true);
      if (this.#failures >= this.#settings.failureThreshold) this.#settle(false);
    }
    if (this.#stopped) return;
    this.#schedule(this.#settings.periodSeconds * 1000);
  }

  #settle(success: boolean): void {
    if (this.#result === success) return;
    this.#result = success;
    this.hooks.onResult(success);
  }

  #attemptWithTimeout(): Promise<ProbeOutcome> {
    const abort = new AbortController();
    const timeoutMs = this.#settings.timeoutSeconds * 1000;
    return new Promise<ProbeOutcome>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        abort.abort(new ProbeTimeoutError(`timed out after ${this.#settings.timeoutSeconds}s`));
        resolve({ ok: false, message: this.timeoutMessage ?? `probe timed out after ${this.#settings.timeoutSeconds}s` });
      }, timeoutMs);
      this.attempt(abort.signal).then(
        (outcome) => resolve(outcome),
        (error: unknown) => resolve({ ok: false, message: error instanceof Error ? error.message : String(error) }),
      ).finally(() => timer.cancel());
    });
  }
}
