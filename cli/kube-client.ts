// A small HTTPS client for the skiff API (JSON requests and watch streams), for the CLI, the
// benchmarks and the e2e tests. Users drive clusters with kubectl; this is for our own tools.
import { Agent, request } from 'node:https';
import type { ClusterAccess } from './kubeconfig-reader.js';

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class KubeClient {
  readonly #agent: Agent;

  constructor(private readonly access: ClusterAccess) {
    this.#agent = new Agent({ keepAlive: true, maxSockets: 64, ...(access.caCert ? { ca: access.caCert } : {}) });
  }

  request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<KubeResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body));
    return this.#send<T>(method, path, payload, headers, true);
  }

  /**
   * One request. A kept-alive socket the server closed while idle (its keep-alive timeout racing our
   * reuse) fails with ECONNRESET before the server read anything: that is sent again once, on a new
   * socket, as Node's documentation advises.
   */
  #send<T>(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>, mayRetry: boolean): Promise<KubeResponse<T>> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.access.server), {
        method,
        agent: this.#agent,
        headers: {
          accept: 'application/json',
          // Node sends DELETE bodies without chunked encoding: the length must be explicit
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...(this.access.token ? { authorization: `Bearer ${this.access.token}` } : {}),
          ...headers,
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // plain text (logs)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, text });
        });
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET') resolve(this.#send<T>(method, path, payload, headers, false));
        else reject(error);
      });
      req.end(payload);
    });
  }

  /** Streams watch events of `path` (a list path; `watch=true` is added) until `signal` aborts. */
  watch<T = unknown>(path: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const url = new URL(path, this.access.server);
    url.searchParams.set('watch', 'true');
    return new Promise((resolve, reject) => {
      const req = request(url, {
        agent: this.#agent,
        signal,
        headers: { accept: 'application/json', ...(this.access.token ? { authorization: `Bearer ${this.access.token}` } : {}) },
      }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            nl = buffered.indexOf('\n');
          }
        });
        res.on('end', () => resolve());
        res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
