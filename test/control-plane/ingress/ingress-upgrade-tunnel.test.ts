// HTTP upgrades (WebSocket...) through the Ingress gateway carried over the node's tunnel (a
// `skiff-tcp` stream with the gateway's certificate) instead of a port-forward stream, against a
// real gateway and a real node tunnel (ingress-gateway-fixture.ts; the gateway has no node channel
// at all here, so nothing can go another way). The pod sees the connection as from outside (never
// the pod source a client or the gateway might claim); bytes flow both ways after the pod's 101, on
// the plain and the TLS port; a seeded fuzz of hostile upgrade requests never crashes the gateway.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { HOST, startGatewayFixture, type GatewayFixture } from './ingress-gateway-fixture.js';

/** Writes `head` (+ `then` once the answer's head came), reads until `until` matches or the socket closes. */
function exchange(socket: Socket, head: string, then: string | undefined, until: RegExp | ((out: string) => boolean)): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let sent = false;
    const done = () => resolve(out);
    socket.on('data', (c: Buffer) => {
      out += c.toString('latin1');
      if (!sent && then !== undefined && out.includes('\r\n\r\n')) {
        sent = true;
        socket.write(then);
      }
      if (typeof until === 'function' ? until(out) : until.test(out)) {
        socket.destroy();
        done();
      }
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(head);
  });
}

const upgrade = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Skiff-Tunnel-Source: 10.42.2.9:1234\r\nX-Forwarded-For: 10.42.2.9\r\n${extra}\r\n`;

describe('upgrades through the Ingress gateway over the node tunnel', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ upgradePort: true });
  }, 60_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('carries the handshake and bytes both ways over the tunnel, as from outside the cluster', async () => {
    const socket = tcpConnect(fx.httpPort, '127.0.0.1');
    const out = await exchange(socket, `${upgrade('/raw/ws')}early`, 'after the handshake', /early.*after the handshake/s);
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(out).toContain('after the handshake');
    expect(fx.gateway.carried).toMatchObject({ tunnelUpgrades: 1, stream: 0 });
    const seen = fx.upgrades.at(-1)!;
    expect(seen.from).toBe('0.0.0.0'); // the gateway's streams are from outside: the claimed pod source is ignored
    expect(seen.head).toMatch(/^GET \/raw\/ws HTTP\/1\.1\r\n/);
    expect(seen.head.toLowerCase()).toContain('x-forwarded-for: 127.0.0.1');
    expect(seen.head.toLowerCase()).not.toContain('10.42.2.9');
  });

  it('does the same on the TLS port', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: fx.httpsPort, servername: HOST, ca: fx.hostCert, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const payload = 'x'.repeat(200_000);
    const body = (out: string) => (out.includes('\r\n\r\n') ? out.length - out.indexOf('\r\n\r\n') - 4 : 0);
    const out = await exchange(socket as unknown as Socket, upgrade('/raw/tls'), payload, (o) => body(o) >= payload.length);
    expect(out).toMatch(/^HTTP\/1\.1 101 /);
    expect(body(out)).toBe(payload.length);
    expect(fx.gateway.carried).toMatchObject({ tunnelUpgrades: 2, stream: 0 });
    expect(fx.upgrades.at(-1)!.head).toContain('x-forwarded-proto: https');
  });

  it('answers an HTTP handler\'s port with the handler\'s own answer (it cannot switch protocols)', async () => {
    const out = await exchange(tcpConnect(fx.httpPort, '127.0.0.1'), upgrade('/handler', 'Connection-Extra: 1\r\n'), undefined, /\r\n\r\n.*\}/s);
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(fx.gateway.carried.tunnelUpgrades).toBe(3);
  });

  it('survives a seeded fuzz of hostile upgrade requests', async () => {
    const next = seededRandom(3);
    const clean = (s: string) => s.replace(/[\r\n\0]/g, '');
    for (let i = 0; i < 40; i++) {
      const path = next() < 0.7 ? `/raw/${encodeURIComponent(hostileString(next))}` : `/${clean(hostileString(next))}`;
      const lines = [
        `GET ${path.replace(/ /g, '%20')} HTTP/1.1`, `Host: ${next() < 0.8 ? HOST : clean(hostileString(next))}`,
        `Connection: ${next() < 0.8 ? 'Upgrade' : clean(hostileString(next))}`, `Upgrade: ${next() < 0.6 ? 'websocket' : clean(hostileString(next, 4))}`,
        `X-Skiff-Tunnel-Target: ${clean(hostileString(next, 3))}`, `X-Skiff-Tunnel-Listener-Only: 1`, `X-Big: ${'b'.repeat(Math.floor(next() * 30_000))}`,
      ];
      const out = await exchange(tcpConnect(fx.httpPort, '127.0.0.1'), `${lines.join('\r\n')}\r\n\r\n${hostileString(next)}`, undefined, /\r\n\r\n/);
      expect(out === '' || /^HTTP\/1\.1 (101|200|400|404|413|431|502|503) /.test(out), out.slice(0, 200)).toBe(true);
    }
    const after = await exchange(tcpConnect(fx.httpPort, '127.0.0.1'), `${upgrade('/raw/after')}ping`, undefined, /ping/);
    expect(after).toMatch(/^HTTP\/1\.1 101 [^]*ping/);
  });
});
