// The agent's optional local metrics listener (--metrics-port): GET /metrics in the Prometheus text
// format over plain HTTP, for a Prometheus on the device's own network. Off by default: agents
// behind NAT are scraped through the API server instead (docs/metrics.md). Bound to loopback unless
// told otherwise; on any other address a bearer token is required, so a device never serves its
// workload names to whoever can reach it.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Required unless `host` is a loopback address. */
  token?: string;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export class MetricsServerConfigError extends Error {
  override readonly name = 'MetricsServerConfigError';
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

function hasToken(req: IncomingMessage, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startMetricsServer(source: { contentType: string; metrics(): Promise<string> }, options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token;
  if (!token && !isLoopback(host)) {
    throw new MetricsServerConfigError(`the metrics listener on ${host} needs a token (--metrics-token-file): only loopback may be unauthenticated`);
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (token && !hasToken(req, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="skiff-agent"', 'content-type': 'text/plain' }).end('unauthorized\n');
      return;
    }
    source.metrics().then((text) => {
      res.writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text);
    }, (error: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${error.message}\n`);
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
