// startApiServer: serves a Hono app over HTTPS (node https via @hono/node-server), closable with open
// watches. Upgrade requests (kubectl exec) are answered by the same app (upgrade-requests.ts).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { routeUpgradesThrough } from './upgrade-requests.js';

export interface ApiServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** `tls.clientCa`: client certificates signed by it are asked for (not required) and authenticate their CN (auth.ts). */
export async function startApiServer(options: { app: Hono; host: string; port: number; tls: { key: string; cert: string; clientCa?: string } }): Promise<ApiServer> {
  const { app, host, tls } = options;
  const clientCerts = tls.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: tls.clientCa } : {};
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port, createServer, serverOptions: { key: tls.key, cert: tls.cert, ...clientCerts } }, () => resolve(s as Server));
    s.once('error', reject);
  });
  server.on('upgrade', routeUpgradesThrough(app));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `https://${urlHost}:${port}`,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Watches and followed logs never end by themselves.
      server.closeAllConnections();
    }),
  };
}
