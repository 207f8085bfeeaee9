// HTTP/2 on the Ingress gateway's ports (decision 056), a real gateway carrying requests through a
// real node tunnel (ingress-gateway-fixture.ts): ALPN h2 on the TLS port with the certificate of
// the Ingress's TLS Secret chosen by SNI, HTTP/1.1 when the client does not offer h2; h2c with
// prior knowledge on the plain port; routing by :authority exactly as by Host (real curl and
// node's http2 client); many streams on one connection; a seeded fuzz of hostile HTTP/2 requests
// (pseudo-headers, hosts, paths, huge header lists) never crashes the gateway nor reaches the pod
// with pseudo-headers or tunnel headers.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { HOST, startGatewayFixture, type GatewayFixture } from './ingress-gateway-fixture.js';

const run = promisify(execFile);

interface Seen { method: string; authority: string; path: string; headers: Array<[string, string]> }

describe('HTTP/2 on the Ingress gateway', () => {
  let fx: GatewayFixture;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    fx = await startGatewayFixture();
    dir = await mkdtemp(join(tmpdir(), 'skiff-ingress-h2-'));
    caFile = join(dir, 'host.crt');
    await writeFile(caFile, fx.hostCert);
  }, 60_000);
  afterAll(async () => {
    await fx?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** curl -i with these flags: the protocol of the status line, the status, headers and body. */
  const curl = async (args: string[]) => {
    const { stdout } = await run('/usr/bin/curl', ['-sS', '-i', '--max-time', '20', ...args], { timeout: 30_000 });
    const [head = '', ...rest] = stdout.split('\r\n\r\n');
    const [statusLine = ''] = head.split('\r\n');
    const [protocol = '', status = ''] = statusLine.split(' ');
    return { protocol, status: Number(status), head, body: rest.join('\r\n\r\n') };
  };
  const tls = (flag: string, path: string) => curl([flag, '--cacert', caFile, '--resolve', `${HOST}:${fx.httpsPort}:127.0.0.1`, `https://${HOST}:${fx.httpsPort}${path}`]);

  it('speaks h2 on the TLS port by ALPN, with the Secret\'s certificate by SNI, and HTTP/1.1 to clients that do not offer it', async () => {
    const two = await tls('--http2', '/a/b?q=1');
    expect(two.protocol).toBe('HTTP/2');
    expect(two.status).toBe(200);
    const seen = JSON.parse(two.body) as Seen;
    expect(seen).toMatchObject({ method: 'GET', authority: `${HOST}:${fx.httpsPort}`, path: '/a/b?q=1' });
    expect(seen.headers).toContainEqual(['x-forwarded-proto', 'https']);
    expect(seen.headers).toContainEqual(['x-forwarded-for', '127.0.0.1']);
    expect(seen.headers.filter(([name]) => name.startsWith(':'))).toEqual([]);

    const one = await tls('--http1.1', '/a/b?q=1');
    expect(one.protocol).toBe('HTTP/1.1');
    expect(JSON.parse(one.body)).toMatchObject({ method: 'GET', authority: `${HOST}:${fx.httpsPort}`, path: '/a/b?q=1' });
    expect(fx.gateway.carried.stream).toBe(0); // all of it through the node's tunnel
  });

  it('speaks h2c with prior knowledge on the plain port and routes by :authority as by Host', async () => {
    const base = `http://127.0.0.1:${fx.httpPort}`;
    const two = await curl(['--http2-prior-knowledge', '-H', `Host: ${HOST}`, `${base}/x`]);
    expect([two.protocol, two.status]).toEqual(['HTTP/2', 200]);
    expect(JSON.parse(two.body)).toMatchObject({ authority: HOST, path: '/x' });
    for (const flag of ['--http2-prior-knowledge', '--http1.1']) {
      expect((await curl([flag, '-H', 'Host: other.test', `${base}/x`])).status).toBe(404);
      const gone = await curl([flag, '-H', `Host: ${HOST}`, `${base}/gone`]);
      expect([gone.status, gone.body]).toEqual([503, 'service default/nope not found\n']);
    }
    // an h2c upgrade offer is declined: HTTP/1.1 answers
    const offer = await curl(['--http2', '-H', `Host: ${HOST}`, `${base}/y`]);
    expect([offer.protocol, offer.status]).toEqual(['HTTP/1.1', 200]);
  });

  const session = (url: string, options: object = {}) => new Promise<ClientHttp2Session>((resolve, reject) => {
    const s = connect(url, options);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const h2get = (s: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = s.request(headers, body ? {} : { endStream: true });
    let text = '';
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve({ status, text }));
    req.on('error', reject);
    if (body) req.end(body);
  });

  it('carries many streams on one connection with node\'s http2 client, bodies included', async () => {
    const s = await session(`https://127.0.0.1:${fx.httpsPort}`, { servername: HOST, ca: fx.hostCert, checkServerIdentity: () => undefined });
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => h2get(s, {
        ':method': i % 2 ? 'POST' : 'GET', ':path': `/n/${i}`, ':authority': HOST, 'x-n': String(i),
      }, i % 2 ? Buffer.alloc(1000 * i, 1) : undefined)));
      answers.forEach((a, i) => {
        expect(a.status).toBe(200);
        expect(JSON.parse(a.text)).toMatchObject({ method: i % 2 ? 'POST' : 'GET', path: `/n/${i}`, length: i % 2 ? 1000 * i : 0 });
      });
      expect((await h2get(s, { ':path': '/', ':authority': 'elsewhere.test' })).status).toBe(404);
    } finally {
      s.close();
    }
  });

  it('survives a seeded fuzz of hostile HTTP/2 requests on both ports', async () => {
    const next = seededRandom(56);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const before = fx.seen.length;
    const statuses = new Map<number, number>();
    let refusedByClient = 0;
    // a session the gateway ended (GOAWAY after a protocol error) is replaced by a new one, on the other port
    let sessions = 0;
    let current: { s: ClientHttp2Session; dead: boolean } | undefined;
    const live = async () => {
      if (current && !current.dead && !current.s.destroyed && !current.s.closed) return current.s;
      current?.s.destroy();
      const s = sessions++ % 2
        ? await session(`https://127.0.0.1:${fx.httpsPort}`, { servername: HOST, ca: fx.hostCert, checkServerIdentity: () => undefined })
        : await session(`http://127.0.0.1:${fx.httpPort}`);
      const entry = { s, dead: false };
      s.on('error', () => undefined);
      s.on('goaway', () => (entry.dead = true));
      s.on('close', () => (entry.dead = true));
      current = entry;
      return s;
    };
    for (let i = 0; i < 150; i++) {
      // most values printable (they reach the gateway), the others raw (nghttp2 resets those streams itself)
      const raw = next() < 0.3;
      const hostile = (n = 12) => (raw ? hostileString(next, n) : hostileString(next, n).replace(/[\x00-\x1f\x7f]/g, ''));
      const headers: OutgoingHttpHeaders = {
        ':method': pick(['GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'DELETE', hostile(2)]),
        ':path': pick(['/', `/${hostile()}`, '*', '', 'relative', `/${'a'.repeat(20_000)}`, '/..%2f..']),
        ':authority': pick([HOST, HOST, `${HOST}:1`, hostile(), `${HOST}.`, HOST.toUpperCase(), '']),
        'x-skiff-tunnel-target': '10.42.9.9:1',
        'x-skiff-tunnel-source': '10.42.2.5',
        'x-forwarded-for': hostile(),
      };
      const extra = pick([0, 1, 50, 300]);
      for (let h = 0; h < extra; h++) headers[`x-h${h}`] = hostile(3);
      if (next() < 0.15) headers['x-big'] = 'v'.repeat(pick([10_000, 70_000, 200_000]));
      if (next() < 0.1) headers['host'] = 'other.test';
      const answer = await h2get(await live(), headers).catch((error: Error) => ({ status: -1, text: error.message }));
      if (answer.status === -1) refusedByClient++;
      else statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    current?.s.destroy();
    for (const status of statuses.keys()) expect([200, 400, 404, 405, 431, 503], JSON.stringify([...statuses])).toContain(status);
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
    expect(refusedByClient + [...statuses.values()].reduce((a, b) => a + b, 0)).toBe(150); // the rest: stream resets by nghttp2, or the client's own checks
    for (const r of fx.seen.slice(before)) {
      expect(r.headers.filter(([name]) => name.startsWith(':') || name.startsWith('x-skiff-tunnel-'))).toEqual([]);
      expect(r.headers.filter(([name]) => name === 'x-forwarded-for')).toEqual([['x-forwarded-for', '127.0.0.1']]);
    }
    // still serving, on both versions
    const s = await session(`http://127.0.0.1:${fx.httpPort}`);
    expect((await h2get(s, { ':path': '/after', ':authority': HOST })).status).toBe(200);
    s.close();
    expect((await curl(['--http1.1', '-H', `Host: ${HOST}`, `http://127.0.0.1:${fx.httpPort}/after`])).status).toBe(200);
  }, 60_000);

  it('tells HTTP/2 from HTTP/1.1 however the first bytes arrive, and drops a bad preface', async () => {
    const raw = (chunks: string[]) => new Promise<string>((resolve) => {
      const socket = tcpConnect(fx.httpPort, '127.0.0.1');
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
      socket.on('close', () => resolve(out));
      socket.on('error', () => undefined);
      void (async () => {
        for (const chunk of chunks) {
          socket.write(chunk);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
    });
    const oneByOne = `GET /slow HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`.split('');
    expect(await raw(oneByOne)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await raw(['PR', 'I * HTTP/2.0\r\n', '\r\nXX\r\n\r\n', 'garbage'.repeat(10)])).not.toMatch(/HTTP\/1/); // a broken preface: closed by HTTP/2
    // not the preface: HTTP/1.1's parser has it (an unknown method: the connection is closed)
    expect(await raw(['PRX / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'])).not.toMatch(/ 200 /);
    expect(await raw([`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`])).toMatch(/^HTTP\/1\.1 200 /);
    expect(constants.NGHTTP2_NO_ERROR).toBe(0);
  });
});
