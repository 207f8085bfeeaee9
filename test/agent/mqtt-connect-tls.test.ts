// The agent's mqtts:// connection sends a TLS ServerName (SNI) for a host name only: an IP address
// as ServerName is not allowed by RFC 6066 (Node's DEP0123 warning), and the certificate is still
// checked against the IP. Runs in its own process (vitest forks): Node warns once per process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt } from '../../agent/mqtt-connect.js';
import { ensureTls } from '../../control-plane/api/tls.js';

describe('connectMqtt over TLS', () => {
  let dir: string;
  let server: Server;
  let caCert: string;
  const accepted: Array<string | false | null> = [];
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.message);

  beforeAll(async () => {
    process.on('warning', onWarning);
    dir = await mkdtemp(join(tmpdir(), 'skiff-mqtt-sni-'));
    const tls = await ensureTls(dir, { hosts: [] });
    caCert = tls.caCert;
    server = createServer({ key: tls.key, cert: tls.cert }, (socket: TLSSocket) => {
      accepted.push(socket.servername);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const handshake = async (host: string): Promise<string | false | null> => {
    const before = accepted.length;
    const port = (server.address() as { port: number }).port;
    const client = connectMqtt(`mqtts://${host}:${port}`, { ca: caCert, reconnectPeriod: 0, connectTimeout: 5_000 });
    try {
      for (const deadline = Date.now() + 10_000; accepted.length === before;) {
        if (Date.now() > deadline) throw new Error(`no TLS handshake with ${host}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return accepted[before]!;
    } finally {
      client.end(true);
    }
  };

  it('sends no ServerName for an IP address (no DEP0123) (the certificate is still checked against the IP: embedded-broker-tls.test.ts)', async () => {
    expect(await handshake('127.0.0.1')).toBeFalsy();
    // warnings are emitted on the next tick
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).not.toContain('DEP0123');
  });

  it('sends the host name as ServerName', async () => {
    expect(await handshake('localhost')).toBe('localhost');
  });
});
