// The ServiceAccount tokens of one pod's projected volumes (`serviceAccountToken` sources, the
// kube-api-access volume among them): requested bound to the pod, kept in memory and written by
// PodVolumes into the volume (tmpfs), and rotated as the kubelet does: once a token is older than
// 80 % of its lifetime or than 24 h. A token the agent wrote before it restarted is taken back from
// the volume (so pods restart offline, edge autonomy) and rotated when due.
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { Pod } from '../../api/types/pod.js';
import type { ServiceAccountTokenSource } from '../credentials/token-request-client.js';

type Obj = Record<string, unknown>;

export interface TokenSourceSpec {
  /** The pod volume and the file in it. */
  volume: string;
  path: string;
  audience?: string | undefined;
  expirationSeconds: number;
}

interface Held { token: string; issuedAt: number; expiresAt: number }

/** The real server's default and minimum for a projected token's lifetime. */
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_AGE_MS = 24 * 3600_000;
/** After a failed rotation, the next try (while the token still holds). */
const RETRY_MS = 10_000;

/** The serviceAccountToken sources of a pod's projected volumes. */
export function tokenSources(pod: Pod): TokenSourceSpec[] {
  const out: TokenSourceSpec[] = [];
  for (const volume of pod.spec.volumes ?? []) {
    const sources = ((volume as Obj)['projected'] as Obj | undefined)?.['sources'];
    if (!Array.isArray(sources)) continue;
    for (const s of sources as Obj[]) {
      const t = s?.['serviceAccountToken'] as Obj | undefined;
      if (!t || typeof t !== 'object') continue;
      const seconds = Number(t['expirationSeconds'] ?? DEFAULT_EXPIRATION_SECONDS);
      out.push({
        volume: volume.name, path: String(t['path'] ?? 'token'),
        ...(typeof t['audience'] === 'string' && t['audience'] ? { audience: t['audience'] } : {}),
        expirationSeconds: Number.isSafeInteger(seconds) && seconds >= MIN_EXPIRATION_SECONDS ? seconds : DEFAULT_EXPIRATION_SECONDS,
      });
    }
  }
  return out;
}

/** iat and exp of a JWT (not verified: it is our own token read back), or undefined. */
export function jwtTimes(token: string): { issuedAt: number; expiresAt: number } | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= claims.iat) return undefined;
    return { issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 };
  } catch {
    return undefined;
  }
}

export class ProjectedTokens {
  readonly #held = new Map<string, Held>();
  #timer: ClockTimer | undefined;
  #stopped = false;
  /** The rotation in flight (its files may still be being written). */
  #rotating: Promise<void> | undefined;

  constructor(private pod: Pod, private readonly options: {
    source: ServiceAccountTokenSource;
    clock: Clock;
    /** Tokens of these volumes changed (rotation): rewrite their files. */
    onRotated: (volumes: Set<string>) => Promise<void>;
    onError?: (error: Error) => void;
  }) {}

  setPod(pod: Pod): void {
    this.pod = pod;
  }

  /** The token of `volume`/`path`, once ensure() got it. */
  get(volume: string, path: string): string | undefined {
    return this.#held.get(key(volume, path))?.token;
  }

  /** A token found in the volume (written before an agent restart): used while valid and not due. */
  adopt(volume: string, path: string, token: string): void {
    const times = jwtTimes(token);
    if (times && times.expiresAt > this.options.clock.now() && !this.#held.has(key(volume, path))) this.#held.set(key(volume, path), { token, ...times });
  }

  /** Requests every token that is missing or due; throws when a missing one cannot be had. */
  async ensure(): Promise<Set<string>> {
    const changed = new Set<string>();
    const now = this.options.clock.now();
    let failure: Error | undefined;
    for (const spec of tokenSources(this.pod)) {
      const k = key(spec.volume, spec.path);
      const held = this.#held.get(k);
      if (held && now < refreshAt(held)) continue;
      try {
        const issued = await this.options.source.request({
          namespace: this.pod.metadata.namespace ?? 'default',
          serviceAccount: String((this.pod.spec as Obj)['serviceAccountName'] || 'default'),
          pod: { name: this.pod.metadata.name ?? '', uid: this.pod.metadata.uid ?? '' },
          audience: spec.audience, expirationSeconds: spec.expirationSeconds,
        });
        this.#held.set(k, { token: issued.token, issuedAt: now, expiresAt: issued.expiresAt });
        changed.add(spec.volume);
      } catch (error) {
        // a token still valid keeps serving; a missing or expired one fails the mount
        if (!held || now >= held.expiresAt) failure ??= error as Error;
        else this.options.onError?.(error as Error);
      }
    }
    this.#schedule(failure !== undefined);
    if (failure) throw failure;
    return changed;
  }

  /** Stops rotating; resolves once a rotation in flight has finished writing its files. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#rotating;
  }

  #schedule(failed: boolean): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#stopped || (this.#held.size === 0 && !failed)) return;
    const now = this.options.clock.now();
    let next = Math.min(Infinity, ...[...this.#held.values()].map(refreshAt));
    if (failed || next <= now) next = now + RETRY_MS;
    this.#timer = this.options.clock.setTimeout(() => this.#rotate(), Math.max(0, next - now));
  }

  #rotate(): void {
    if (this.#stopped) return;
    const rotating = this.#rotateOnce().finally(() => {
      if (this.#rotating === rotating) this.#rotating = undefined;
    });
    this.#rotating = rotating;
  }

  async #rotateOnce(): Promise<void> {
    try {
      const changed = await this.ensure();
      if (changed.size && !this.#stopped) await this.options.onRotated(changed);
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }
}

const key = (volume: string, path: string) => `${volume}\0${path}`;
const refreshAt = (h: Held) => Math.min(h.issuedAt + 0.8 * (h.expiresAt - h.issuedAt), h.issuedAt + MAX_AGE_MS);
