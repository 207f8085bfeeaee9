// Asks the API for the ServiceAccount tokens projected into this node's pods: TokenRequest over
// HTTPS with the node's own credential, each token bound to its pod (name and uid), as the kubelet
// does. The API URL and CA come from the control plane's presence. The API's node authorizer lets a
// node ask only for tokens bound to a pod scheduled to it that runs as that ServiceAccount.
import { Agent, request } from 'node:https';

export interface ProjectedTokenRequest {
  namespace: string;
  serviceAccount: string;
  pod: { name: string; uid: string };
  /** Absent: the API's own audience. */
  audience?: string | undefined;
  expirationSeconds: number;
}

export interface IssuedToken {
  token: string;
  /** ms since epoch */
  expiresAt: number;
}

/** Where an agent gets ServiceAccount tokens for its pods. */
export interface ServiceAccountTokenSource {
  request(r: ProjectedTokenRequest): Promise<IssuedToken>;
}

/** `statusCode` absent: the API could not be reached (offline), not a refusal. */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  constructor(message: string, readonly statusCode?: number) {
    super(message);
  }
}

/** How long a request waits for the control plane's presence to name the API (it may arrive after the desired state). */
const SERVER_WAIT_MS = 5_000;

const MAX_RESPONSE_BYTES = 64 * 1024;

export class TokenRequestClient implements ServiceAccountTokenSource {
  #server: string | undefined;
  #ca: string | undefined;
  #agent: Agent | undefined;
  readonly #waiting = new Set<() => void>();

  constructor(private readonly options: { credential: string; timeoutMs?: number }) {}

  /** The API's base URL and CA, from the control plane's presence (registryUrl, caCert). */
  setServer(url: string | undefined, ca: string | undefined): void {
    if (url === this.#server && ca === this.#ca) return;
    this.#server = url;
    this.#ca = ca;
    this.#agent?.destroy();
    this.#agent = new Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
    for (const wake of this.#waiting) wake();
  }

  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  async request(r: ProjectedTokenRequest): Promise<IssuedToken> {
    if (!this.#server) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, SERVER_WAIT_MS);
        timer.unref?.();
        this.#waiting.add(wake);
      });
      if (!this.#server) throw new TokenRequestError('the control plane has not announced its API (offline?)');
    }
    return this.#post(r);
  }

  #post(r: ProjectedTokenRequest): Promise<IssuedToken> {
    const path = `/api/v1/namespaces/${encodeURIComponent(r.namespace)}/serviceaccounts/${encodeURIComponent(r.serviceAccount)}/token`;
    const url = new URL(path, this.#server);
    const body = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: {
        ...(r.audience ? { audiences: [r.audience] } : {}),
        expirationSeconds: r.expirationSeconds,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: r.pod.name, uid: r.pod.uid },
      },
    });
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        agent: this.#agent,
        headers: { authorization: `Bearer ${this.options.credential}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
        timeout: this.options.timeoutMs ?? 10_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new TokenRequestError('TokenRequest answer too large'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { message?: unknown; status?: { token?: unknown; expirationTimestamp?: unknown } } | undefined;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            parsed = undefined;
          }
          if (res.statusCode !== 201 && res.statusCode !== 200) {
            const message = typeof parsed?.message === 'string' ? parsed.message : text.slice(0, 200);
            reject(new TokenRequestError(`TokenRequest for serviceaccount ${r.namespace}/${r.serviceAccount} answered ${res.statusCode}: ${message}`, res.statusCode));
            return;
          }
          const token = parsed?.status?.token;
          const expiresAt = Date.parse(String(parsed?.status?.expirationTimestamp));
          if (typeof token !== 'string' || !token || !Number.isFinite(expiresAt)) {
            reject(new TokenRequestError('TokenRequest answer without a token and its expiry'));
            return;
          }
          resolve({ token, expiresAt });
        });
      });
      req.on('timeout', () => req.destroy(new TokenRequestError('TokenRequest timed out')));
      req.on('error', (e) => reject(e instanceof TokenRequestError ? e : new TokenRequestError(`TokenRequest failed: ${e.message}`)));
      req.end(body);
    });
  }
}
