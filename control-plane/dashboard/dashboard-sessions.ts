// Browser sessions of the dashboard: a random id in an HttpOnly, Secure, SameSite=Strict cookie
// stands for the bearer token typed at login, kept in memory only (a control-plane restart signs
// everyone out). Every use checks the token again, so a revoked token ends its sessions; sessions
// expire after 8 hours on the injected clock.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../api/clock.js';
import type { ApiUser, TokenAuthenticator } from '../api/auth.js';

export const SESSION_COOKIE = 'skiff_session';
export const SESSION_TTL_MS = 8 * 3600_000;
const MAX_SESSIONS = 1000;

interface Session { token: string; expiresAtMs: number }

export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly tokens: TokenAuthenticator, private readonly clock: Clock) {}

  /** A new session for a token that was just checked; returns its id. */
  open(token: string): string {
    this.#expire();
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { token, expiresAtMs: this.clock.now() + SESSION_TTL_MS });
    return id;
  }

  /** The session's user, if it is live and its token still authenticates. */
  async user(id: string | undefined): Promise<ApiUser | undefined> {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAtMs <= this.clock.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    const user = await this.tokens(session.token);
    if (!user) this.#sessions.delete(id);
    return user;
  }

  close(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #expire(): void {
    const now = this.clock.now();
    for (const [id, s] of this.#sessions) if (s.expiresAtMs <= now) this.#sessions.delete(id);
  }
}
