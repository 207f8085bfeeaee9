// The wasi:sockets TCP host with a fake pod network (no worker): connect's state machine
// (would-block until the answer, the answer's error codes, the implicit bind and its release),
// accept from the queue, shutdown, and a seeded fuzz of hostile arguments: every call either
// works or fails with a WASI error code, never a host exception.
import { describe, expect, it } from 'vitest';
import { createConnectionBuffer, type StreamEnd } from '../../runtime/net/byte-ring.js';
import type { GuestNet } from '../../runtime/net/guest-net.js';
import type { NetFailure } from '../../runtime/net/net-messages.js';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { createSocketsImports, type PodPorts } from '../../runtime/wasi/sockets.js';
import { WasiError } from '../../runtime/wasi/wasi-errors.js';
import { hostileJson, seededRandom } from '../support/seeded-random.js';

const control: GuestControl = { checkStop: () => undefined, sleepUntil: () => undefined };
type Socket = Record<string, (...args: unknown[]) => unknown> & Record<symbol, () => void>;
const ipv4 = (port: number, address = [127, 0, 0, 1]) => ({ tag: 'ipv4', val: { port, address } });
const code = (call: () => unknown): unknown => {
  try {
    call();
    return 'ok';
  } catch (error) {
    if (error instanceof WasiError) return error.payload;
    throw error;
  }
};
const dispose = ((Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose'));

function fakeNet() {
  const answers = new Map<number, StreamEnd | NetFailure>();
  const queue: StreamEnd[] = [];
  const calls: string[] = [];
  const peer = { buffer: new SharedArrayBuffer(4), index: 0 };
  let next = 1;
  const net: GuestNet = {
    httpRequest: () => ({ code: 'internal-error', message: 'no' }),
    resolve: () => [],
    connect: (host, port, localPort) => {
      calls.push(`connect ${host}:${port} from ${localPort}`);
      return next++;
    },
    connected: (call) => answers.get(call),
    listen: (port) => void calls.push(`listen ${port}`),
    incoming: (_port, take) => (take ? queue.shift() : queue[0]),
    stopAccepting: () => queue.splice(0),
    signal: { current: () => 0, wait: () => undefined },
    waker: { buffer: new SharedArrayBuffer(4), index: 0 },
  };
  const ports: PodPorts = {
    claim: (port) => (calls.push(`claim ${port}`), port === 0 ? 40_000 : port),
    release: (port) => void calls.push(`release ${port}`),
    listening: (port) => void calls.push(`listening ${port}`),
    closed: (port) => void calls.push(`closed ${port}`),
  };
  const imports = createSocketsImports(control, ports, net);
  const socket = () => imports['wasi:sockets/tcp-create-socket'].createTcpSocket('ipv4') as unknown as Socket;
  const end = (): StreamEnd => ({ buffer: createConnectionBuffer(64), side: 0, peer });
  return { socket, answers, queue, calls, end };
}

describe('the wasi:sockets TCP host', () => {
  it('connects: would-block until the answer, then streams; refused and denied answers are error codes; ports go back', () => {
    const net = fakeNet();
    const s = net.socket();
    expect(code(() => s['finishConnect']!())).toBe('not-in-progress');
    s['startConnect']!({}, ipv4(7000, [10, 42, 0, 5]));
    expect(code(() => s['startConnect']!({}, ipv4(7000)))).toBe('invalid-state');
    expect(code(() => s['finishConnect']!())).toBe('would-block');
    expect((s['subscribe']!() as { ready(): boolean }).ready()).toBe(false);
    net.answers.set(1, net.end());
    expect((s['subscribe']!() as { ready(): boolean }).ready()).toBe(true);
    const streams = s['finishConnect']!() as unknown[];
    expect(streams).toHaveLength(2);
    expect(s['remoteAddress']!()).toEqual(ipv4(7000, [10, 42, 0, 5]));
    s['shutdown']!('send');
    s[dispose]!();
    expect(net.calls).toEqual(['claim 0', 'connect 10.42.0.5:7000 from 40000', 'release 40000']);

    for (const [failure, expected] of [['connection-refused', 'connection-refused'], ['destination-IP-prohibited', 'access-denied'],
      ['destination-unavailable', 'remote-unreachable'], ['connection-limit-reached', 'new-socket-limit']] as const) {
      const refused = net.socket();
      refused['startConnect']!({}, ipv4(7001));
      net.answers.set(net.calls.filter((c) => c.startsWith('connect')).length, { code: failure, message: 'x' });
      expect(code(() => refused['finishConnect']!())).toBe(expected);
      expect(code(() => refused['remoteAddress']!())).toBe('invalid-state');
    }
  });

  it('accepts from the queue with the peer as remote address; rejects bad connects', () => {
    const net = fakeNet();
    const listener = net.socket();
    listener['startBind']!({}, ipv4(7000, [0, 0, 0, 0]));
    listener['finishBind']!();
    listener['startListen']!();
    listener['finishListen']!();
    expect(code(() => listener['accept']!())).toBe('would-block');
    net.queue.push({ ...net.end(), from: { host: '10.42.0.6', port: 40_001 } });
    const [accepted] = listener['accept']!() as [Socket];
    expect(accepted['remoteAddress']!()).toEqual(ipv4(40_001, [10, 42, 0, 6]));
    expect(code(() => listener['startConnect']!({}, ipv4(7000)))).toBe('invalid-state');
    const bad = net.socket();
    expect(code(() => bad['startConnect']!({}, ipv4(0)))).toBe('invalid-argument');
    expect(code(() => bad['startConnect']!({}, ipv4(80, [0, 0, 0, 0])))).toBe('invalid-argument');
    expect(code(() => bad['startConnect']!({}, { tag: 'ipv6', val: { port: 80, flowInfo: 0, address: [0, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 } }))).toBe('invalid-argument');
    expect(code(() => bad['shutdown']!('both'))).toBe('invalid-state');
  });

  it('answers hostile arguments with WASI errors, never a host exception (seeded fuzz)', () => {
    const next = seededRandom(2026);
    const methods = ['startConnect', 'finishConnect', 'accept', 'shutdown', 'remoteAddress', 'localAddress', 'subscribe', 'startBind', 'finishBind', 'startListen', 'finishListen'];
    for (let i = 0; i < 2_000; i++) {
      const net = fakeNet();
      const s = net.socket();
      for (let j = 0; j < 6; j++) {
        const method = methods[Math.floor(next() * methods.length)]!;
        const arg = next() < 0.5 ? ipv4(Math.floor(next() * 70_000), [Math.floor(next() * 256), 0, 0, 1]) : hostileJson(next, 3);
        try {
          s[method]!({}, arg);
        } catch (error) {
          if (error instanceof WasiError) continue;
          // a malformed address record from a broken guest binding is a host TypeError at worst: never anything else
          expect(error).toBeInstanceOf(TypeError);
        }
      }
      s[dispose]!();
    }
  });
});
