// KubeClient against a real HTTPS server on loopback: a kept-alive socket the server drops as the
// next request arrives (its keep-alive timeout racing the reuse) is retried once on a new socket.
import { createServer, type Server } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../cli/kube-client.js';
import { ensureTls } from '../../control-plane/api/tls.js';

describe('KubeClient', () => {
  let dir: string;
  let server: Server;
  let client: KubeClient;
  const seen: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-kube-client-'));
    const tls = await ensureTls(dir, { hosts: [] });
    const requestsOnSocket = new WeakMap<object, number>();
    server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const n = (requestsOnSocket.get(req.socket) ?? 0) + 1;
      requestsOnSocket.set(req.socket, n);
      seen.push(`${req.method} ${req.url} #${n}`);
      if (n > 1) {
        req.socket.destroy(); // what a server closing an idle keep-alive socket looks like to the client
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new KubeClient({ server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caCert: tls.caCert, token: 't' });
  });
  afterAll(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a request again, once, when its reused socket was reset before an answer', async () => {
    expect((await client.request('GET', '/a')).body).toEqual({ path: '/a' });
    expect((await client.request('POST', '/b', { x: 1 })).body).toEqual({ path: '/b' });
    expect(seen).toEqual(['GET /a #1', 'POST /b #2', 'POST /b #1']);
  });
});
