// WebSocket over HTTP/2 (RFC 8441) through the Ingress gateway, against a real gateway and a real
// node tunnel (ingress-gateway-fixture.ts: a raw TCP guest on port 7000 that answers an upgrade with
// 101 and echoes, an HTTP handler on 8080): node's http2 client sends an extended CONNECT on the
// plain port (h2c prior knowledge) and the TLS port (h2 by ALPN); the pod gets an HTTP/1.1
// WebSocket handshake of the gateway's, the client a 200 and then the pod's bytes. A pod that does
// not switch protocols or switches without the right Sec-WebSocket-Accept, unknown hosts, plain CONNECT and other protocols get errors; a seeded
// fuzz of hostile extended CONNECTs never crashes the gateway.
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { HOST, startGatewayFixture, type GatewayFixture } from './ingress-gateway-fixture.js';

/** An HTTP/2 session to the gateway, once the gateway's SETTINGS came (extended CONNECT needs them). */
async function session(url: string, options: { ca?: string; servername?: string } = {}): Promise<ClientHttp2Session> {
  const client = connect(url, options);
  client.on('error', () => undefined);
  const [settings] = await once(client, 'remoteSettings') as [{ enableConnectProtocol?: boolean }];
  expect(settings.enableConnectProtocol).toBe(true);
  return client;
}

/** Opens a stream with `headers`, writes `payload` once answered and ends; resolves with the answer's headers and everything read. */
function exchange(client: ClientHttp2Session, headers: OutgoingHttpHeaders, payload = ''): Promise<{ headers: IncomingHttpHeaders; body: string; reset?: number }> {
  return new Promise((resolve) => {
    const stream = client.request(headers);
    let answer: IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (h) => {
      answer = h;
      if (h[':status'] === 200) stream.end(payload);
      else stream.end();
    });
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ headers: answer, body, ...(stream.rstCode ? { reset: stream.rstCode } : {}) }));
  });
}

const websocket = (path: string, extra: OutgoingHttpHeaders = {}, authority = HOST, scheme = 'http'): OutgoingHttpHeaders =>
  ({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': path, ':authority': authority, 'sec-websocket-version': '13', ...extra });

describe('WebSocket over HTTP/2 (RFC 8441) through the Ingress gateway', () => {
  let fx: GatewayFixture;
  let h2c: ClientHttp2Session;
  beforeAll(async () => {
    fx = await startGatewayFixture({ upgradePort: true });
    h2c = await session(`http://127.0.0.1:${fx.httpPort}`);
  }, 60_000);
  afterAll(async () => {
    h2c?.close();
    await fx?.stop();
  });

  it('carries an extended CONNECT on the plain port to the pod as an HTTP/1.1 handshake, then bytes both ways', async () => {
    const before = fx.gateway.carried.tunnelUpgrades;
    const out = await exchange(h2c, websocket('/raw/chat?room=1', { 'sec-websocket-protocol': 'chat', 'x-skiff-tunnel-source': '10.42.2.9:1234', 'x-forwarded-for': '10.42.2.9' }), 'hello over h2');
    expect(out.headers[':status']).toBe(200);
    expect(out.body).toBe('hello over h2');
    expect(fx.gateway.carried.tunnelUpgrades).toBe(before + 1); // over the node's tunnel
    const seen = fx.upgrades.at(-1)!;
    expect(seen.from).toBe('0.0.0.0'); // from outside the cluster: the claimed source ignored
    const head = seen.head.toLowerCase();
    expect(seen.head).toMatch(/^GET \/raw\/chat\?room=1 HTTP\/1\.1\r\n/);
    for (const line of [`host: ${HOST}`, 'connection: upgrade', 'upgrade: websocket', 'sec-websocket-version: 13', 'sec-websocket-protocol: chat', 'x-forwarded-for: 127.0.0.1', 'x-forwarded-proto: http']) {
      expect(head).toContain(line);
    }
    expect(head).toMatch(/sec-websocket-key: [a-z0-9+/]{22}==/);
    expect(head).not.toContain('10.42.2.9');
    expect(head).not.toContain(':protocol');
  });

  it('carries 200 KB each way on the TLS port (h2 by ALPN, the Secret\'s certificate)', async () => {
    const tls = await session(`https://127.0.0.1:${fx.httpsPort}`, { ca: fx.hostCert, servername: HOST });
    try {
      const big = 'w'.repeat(200_000);
      const out = await exchange(tls, websocket('/raw/big', {}, HOST, 'https'), big);
      expect(out.headers[':status']).toBe(200);
      expect(out.body.length).toBe(big.length);
      expect(out.body === big).toBe(true);
      expect(fx.upgrades.at(-1)!.head.toLowerCase()).toContain('x-forwarded-proto: https');
    } finally {
      tls.close();
    }
  });

  it('answers 502 when the pod does not switch protocols, 404 for unknown hosts, 405 for plain CONNECT and other protocols', async () => {
    const handler = await exchange(h2c, websocket('/not-raw'));
    expect(handler.headers[':status']).toBe(502);
    expect(handler.body).toBe('the pod did not switch protocols (it answered 200)\n');
    // a 101 without the Accept of the gateway's key (RFC 6455 4.1): no WebSocket, whatever answered
    for (const path of ['/raw/no-accept', '/raw/wrong-accept']) {
      const unaccepted = await exchange(h2c, websocket(path), 'never carried');
      expect(unaccepted.headers[':status']).toBe(502);
      expect(unaccepted.body).toBe('the pod switched protocols without the Sec-WebSocket-Accept of the handshake\'s key\n');
    }
    expect((await exchange(h2c, websocket('/raw/x', {}, 'nope.test'))).headers[':status']).toBe(404);
    expect((await exchange(h2c, { ':method': 'CONNECT', ':authority': `${HOST}:443` })).headers[':status']).toBe(405);
    expect((await exchange(h2c, { ...websocket('/raw/x'), ':protocol': 'connect-udp' })).headers[':status']).toBe(405);
    // ordinary requests on the same session still work
    expect((await exchange(h2c, { ':method': 'GET', ':path': '/', ':authority': HOST })).headers[':status']).toBe(200);
  });

  it('never crashes on hostile extended CONNECTs (seeded fuzz), and keeps serving', async () => {
    const next = seededRandom(8441);
    const statuses = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const headers: OutgoingHttpHeaders = websocket(next() < 0.7 ? `/raw/${encodeURIComponent(hostileString(next))}` : `/${hostileString(next).replace(/[\s\0]/g, '')}`);
      if (next() < 0.5) headers['sec-websocket-version'] = hostileString(next).replace(/[\r\n\0]/g, '').slice(0, 100);
      if (next() < 0.3) headers['sec-websocket-key'] = hostileString(next).replace(/[\r\n\0]/g, '').slice(0, 100);
      if (next() < 0.3) headers[':authority'] = hostileString(next).replace(/[\r\n\0\s]/g, '').slice(0, 200) || HOST;
      let out;
      try {
        out = await exchange(h2c, headers, 'x');
      } catch {
        continue; // node's client refused to send it
      }
      if (out.headers[':status'] !== undefined) statuses.add(Number(out.headers[':status']));
    }
    for (const status of statuses) expect([200, 400, 404, 431, 502]).toContain(status);
    const after = await exchange(h2c, websocket('/raw/after'), 'still here');
    expect(after.body).toBe('still here');
  });
});
