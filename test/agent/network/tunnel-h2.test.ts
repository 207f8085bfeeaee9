// Raw TCP between nodes as streams of one HTTP/2 session per peer (decision 055): a real tunnel
// server (mutual TLS, node certificates of a real cluster CA) whose pods are in-memory streams;
// many connections on one TLS connection, bytes both ways, half-close and resets, per-stream flow
// control (a stalled reader stalls only its own stream), refusals, node identities only, HTTP/1.1
// requests and upgrades still served on the same port, a peer without HTTP/2 told apart (the upgrade
// reaches it), and seeded fuzz of hostile streams and frames.
import { connect as h2connect, type ClientHttp2Stream } from 'node:http2';
import { Agent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredPeer } from '../../../api/mqtt/messages.js';
import type { NodeTls } from '../../../agent/credentials/node-certificate.js';
import { TunnelServer } from '../../../agent/network/tunnel-server.js';
import { NoH2Error, STREAM_WINDOW_BYTES, TunnelSessions } from '../../../agent/network/tunnel-h2.js';
import { openTunnelStream, serveTcpUpgrade, type AcceptFromPeer } from '../../../agent/network/tunnel-tcp.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

const tlsOf = (issued: { key: string; cert: string; caCert: string }): NodeTls => ({ ...issued, notBefore: 0, notAfter: Date.now() + 86_400_000 });

/** Everything `stream` gives until its end, or the error that ended it. */
function drain(stream: Duplex): Promise<Buffer | Error> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', (error) => resolve(error));
  });
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('raw TCP as HTTP/2 streams between two nodes', () => {
  let dir: string;
  let issuer: NodeCertificateIssuer;
  let server: TunnelServer;
  let tlsA: NodeTls;
  let peer: DesiredPeer;
  const accepted: Array<{ node: string; source: unknown; podIP: string; port: number }> = [];
  /** Port 7001's pod: takes bytes only when `release` is called (a guest that stopped reading). */
  const stalled: Array<() => void> = [];
  let stalledBytes = 0;
  let pod7003: PassThrough | undefined;

  const accept: AcceptFromPeer = (node, source, podIP, port) => {
    accepted.push({ node, source, podIP, port });
    if (podIP !== '10.42.2.5') throw new PodNetworkError('destination-unavailable', `no pod with IP ${podIP} runs on this node`);
    if (port === 7000) return new PassThrough(); // an echo
    if (port === 7001) {
      return new Duplex({
        read() { /* never answers */ },
        write(chunk: Buffer, _encoding, callback) {
          stalledBytes += chunk.length;
          stalled.push(() => callback());
        },
      });
    }
    if (port === 7003) return (pod7003 = new PassThrough());
    throw new PodNetworkError('connection-refused', `dial tcp ${podIP}:${port}: connect: connection refused`);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-tunnel-h2-'));
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    issuer = new NodeCertificateIssuer(dir, []);
    tlsA = tlsOf(await issuer.issue('node-a', []));
    server = await TunnelServer.start({
      host: '127.0.0.1', port: 0, tls: tlsOf(await issuer.issue('node-b', ['127.0.0.1'])),
      runs: () => true, deliver: async () => ({ status: 200, headers: [], body: Buffer.from('http/1.1 still served') }), acceptStream: accept,
    });
    peer = { node: 'node-b', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: server.port };
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries many connections on one TLS connection, each a byte stream with its own FIN', async () => {
    const sessions = new TunnelSessions();
    try {
      const streams = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7000, source: { host: '10.42.1.2', port: 40_000 + i } }, 2_000)));
      expect(sessions.opened).toBe(1);
      expect(new Set(streams.map((s) => (s as ClientHttp2Stream).session)).size).toBe(1);
      const payloads = streams.map((_, i) => Buffer.alloc(100_000 + i * 1000, i + 1));
      const answers = streams.map((s) => drain(s));
      streams.forEach((s, i) => s.end(payloads[i]));
      const got = await Promise.all(answers);
      got.forEach((g, i) => expect(Buffer.isBuffer(g) && g.equals(payloads[i]!)).toBe(true));
      expect(accepted.at(-1)).toMatchObject({ node: 'node-a', podIP: '10.42.2.5', port: 7000, source: { host: '10.42.1.2' } });
      // a node's own address (a NodePort client after SNAT) travels without a port
      const nodePort = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7000, source: { host: '127.0.0.2', port: 0 } }, 2_000);
      nodePort.end();
      await drain(nodePort);
      expect(accepted.at(-1)!.source).toEqual({ host: '127.0.0.2', port: 0 });
      expect(sessions.opened).toBe(1);
    } finally {
      sessions.close();
    }
  });

  it('stalls only the stream whose reader stopped (per-stream flow control); the others keep flowing', async () => {
    const sessions = new TunnelSessions();
    try {
      const slow = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7001 }, 2_000);
      slow.on('error', () => undefined);
      let written = 0;
      const chunk = Buffer.alloc(64 * 1024, 9);
      // write until the stream stops taking bytes (no 'drain' within 500 ms)
      for (;;) {
        written += chunk.length;
        if (slow.write(chunk)) continue;
        const drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 500);
          slow.once('drain', () => { clearTimeout(timer); resolve(true); });
        });
        if (!drained || written > 16 * STREAM_WINDOW_BYTES) break;
      }
      // the sender is held back by the stream's window: the stalled pod got little of it
      expect(written).toBeLessThan(16 * STREAM_WINDOW_BYTES);
      expect(written - slow.writableLength).toBeLessThanOrEqual(2 * STREAM_WINDOW_BYTES);
      expect(stalledBytes).toBeLessThan(STREAM_WINDOW_BYTES);
      // another connection on the same session echoes 4 MiB meanwhile
      const fast = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7000 }, 2_000);
      const payload = Buffer.alloc(4 << 20, 3);
      const answer = drain(fast);
      fast.end(payload);
      const got = await answer;
      expect(Buffer.isBuffer(got) && got.equals(payload)).toBe(true);
      expect(sessions.opened).toBe(1);
      // the stalled pod reads again: the rest arrives
      const release = setInterval(() => { for (const go of stalled.splice(0)) go(); }, 5);
      try {
        await until(() => stalledBytes >= written);
      } finally {
        clearInterval(release);
      }
      slow.destroy();
    } finally {
      sessions.close();
    }
  });

  it('carries a reset both ways and refuses with the pod\'s error code', async () => {
    const sessions = new TunnelSessions();
    try {
      const code = (p: Promise<unknown>) => p.then(() => 'connected', (e: PodNetworkError) => `${e.code}: ${e.message}`);
      expect(await code(sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7002 }, 2_000))).toMatch(/^connection-refused: dial tcp 10.42.2.5:7002 via node node-b: dial tcp 10.42.2.5:7002: connect: connection refused/);
      expect(await code(sessions.open(tlsA, { peer, podIP: '10.42.2.77', port: 7000 }, 2_000))).toMatch(/^destination-unavailable: .*no pod with IP 10.42.2.77/);
      // the pod resets: A's end gets ECONNRESET
      const stream = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7003 }, 2_000);
      const ended = drain(stream);
      stream.write('x');
      await until(() => pod7003 !== undefined);
      pod7003!.destroy(new Error('guest gone'));
      const result = await ended;
      expect(result).toBeInstanceOf(Error);
      // A resets: the pod's end is destroyed
      const again = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7003 }, 2_000);
      const pod = await (async () => { await until(() => pod7003 !== undefined && !pod7003.destroyed); return pod7003!; })();
      again.destroy(new Error('reset by A'));
      await until(() => pod.destroyed);
      expect(sessions.opened).toBe(1);
    } finally {
      sessions.close();
    }
  });

  it('takes streams from nodes only, and still serves HTTP/1.1 requests and upgrades on the same port', async () => {
    const gateway = await issuer.issueGateway();
    const sessions = new TunnelSessions();
    try {
      const refused = await sessions.open(tlsOf(gateway), { peer, podIP: '10.42.2.5', port: 7000 }, 2_000).then(() => 'connected', (e: PodNetworkError) => e.code);
      expect(refused).toBe('HTTP-request-denied');
    } finally {
      sessions.close();
    }
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, path: '/', headers: { 'x-skiff-tunnel-target': '10.42.2.5:8080' }, key: tlsA.key, cert: tlsA.cert, ca: tlsA.caCert, checkServerIdentity: () => undefined }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('200 http/1.1 still served');
    const upgraded = await new Promise<string>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers: { connection: 'Upgrade', upgrade: 'skiff-tcp', 'x-skiff-tunnel-target': '10.42.2.5:7000' }, key: tlsA.key, cert: tlsA.cert, ca: tlsA.caCert, checkServerIdentity: () => undefined });
      req.on('upgrade', (res, socket) => { socket.destroy(); resolve(String(res.statusCode)); });
      req.on('response', (res) => { res.resume(); resolve(String(res.statusCode)); });
      req.end();
    });
    expect(upgraded).toBe('101');
  });

  it('tells a peer without HTTP/2 (an older agent) apart, which the skiff-tcp upgrade still reaches', async () => {
    const issuedB = await issuer.issue('node-b', ['127.0.0.1']);
    const old = createHttpsServer({ key: issuedB.key, cert: issuedB.cert, ca: issuedB.caCert, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    old.on('upgrade', (req, socket, head) => serveTcpUpgrade(accept, req, socket, head));
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const oldPeer = { ...peer, port: (old.address() as AddressInfo).port };
    const sessions = new TunnelSessions();
    const agent = new Agent({ keepAlive: true });
    try {
      const h2 = await sessions.open(tlsA, { peer: oldPeer, podIP: '10.42.2.5', port: 7000 }, 2_000).then(() => 'connected', (e: Error) => e);
      expect(h2).toBeInstanceOf(NoH2Error);
      const stream = await openTunnelStream(tlsA, agent, { peer: oldPeer, podIP: '10.42.2.5', port: 7000, source: { host: '127.0.0.2', port: 0 } }, 2_000);
      const answer = drain(stream);
      stream.end('over an upgrade');
      expect(String(await answer)).toBe('over an upgrade');
      expect(accepted.at(-1)!.source).toEqual({ host: '127.0.0.2', port: 0 });
    } finally {
      sessions.close();
      agent.destroy();
      old.closeAllConnections();
      old.close();
    }
  });

  it('answers hostile streams with a refusal or a stream, and survives hostile frames (seeded)', async () => {
    const next = seededRandom(5501);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const session = h2connect(`https://127.0.0.1:${server.port}`, { key: tlsA.key, cert: tlsA.cert, ca: tlsA.caCert, checkServerIdentity: () => undefined });
    session.on('error', () => undefined);
    const statuses = new Set<string>();
    try {
      for (let i = 0; i < 80; i++) {
        const method = pick(['CONNECT', 'GET', 'POST']);
        const authority = pick(['10.42.2.5:7000', '10.42.2.5:0', '10.42.2.5:99999', '999.1.1.1:80', '10.42.2.77:7000', '..', 'x'.repeat(3000), hostileString(next, 3).replace(/[^\x21-\x7e]/g, '') || 'a']);
        const headers: Record<string, string> = {
          ':method': method, ':authority': authority,
          ...(method === 'CONNECT' ? {} : { ':path': '/', ':scheme': 'https' }),
          'x-skiff-tunnel-source': pick(['10.42.1.2:5', '1.2.3.4:0', '', 'x'.repeat(5000), '../..', '10.42.1.2:70000']),
          'x-skiff-tunnel-listener-only': pick(['1', '0', 'yes']),
        };
        const status = await new Promise<string>((resolve) => {
          let stream: ClientHttp2Stream;
          try {
            stream = session.request(headers);
          } catch (error) {
            return resolve(`throws ${(error as NodeJS.ErrnoException).code ?? ''}`);
          }
          stream.on('response', (h) => { resolve(String(h[':status'])); stream.close(); });
          stream.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? ''}`));
          stream.on('close', () => resolve(`closed ${stream.rstCode ?? ''}`));
          if (method !== 'GET' && next() < 0.5) stream.write(Buffer.from(hostileString(next, 4) || 'x'));
        });
        statuses.add(status);
        expect(status).toMatch(/^(200|400|403|405|502|throws ERR_HTTP2_\w+|error ERR_HTTP2_\w+|closed \d*)$/);
      }
    } finally {
      session.destroy();
    }
    expect(statuses).toContain('200');
    expect(statuses).toContain('400');
    // hostile frames: the preface, then random bytes, on TLS connections of a node
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: server.port, key: tlsA.key, cert: tlsA.cert, ca: tlsA.caCert, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
          const garbage = Buffer.alloc(1 + Math.floor(next() * 2000));
          for (let j = 0; j < garbage.length; j++) garbage[j] = Math.floor(next() * 256);
          socket.write(Buffer.concat([next() < 0.7 ? Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') : Buffer.alloc(0), garbage]));
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    }
    // the tunnel still takes a valid stream
    const sessions = new TunnelSessions();
    try {
      const stream = await sessions.open(tlsA, { peer, podIP: '10.42.2.5', port: 7000 }, 2_000);
      const answer = drain(stream);
      stream.end('still here');
      expect(String(await answer)).toBe('still here');
    } finally {
      sessions.close();
    }
  }, 60_000);
});
