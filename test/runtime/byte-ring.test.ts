// The connection buffer's semantics on one thread (runtime/net/byte-ring.ts): order across the
// ring's wrap (seeded random chunk sizes), full and empty, FIN after the data, shutdown(receive)
// discarding, close and reset as the peer sees them, wakes when the peer may be waiting, and a
// buffer that is not a connection's refused.
import { describe, expect, it } from 'vitest';
import { createConnectionBuffer, RingEndpoint } from '../../runtime/net/byte-ring.js';
import { seededRandom } from '../support/seeded-random.js';

function pair(capacity = 64) {
  const buffer = createConnectionBuffer(capacity);
  const wakes = [new Int32Array(new SharedArrayBuffer(4)), new Int32Array(new SharedArrayBuffer(4))];
  const a = new RingEndpoint({ buffer, side: 0, peer: { buffer: wakes[1]!.buffer as SharedArrayBuffer, index: 0 } });
  const b = new RingEndpoint({ buffer, side: 1, peer: { buffer: wakes[0]!.buffer as SharedArrayBuffer, index: 0 } });
  return { a, b, wakesOfA: () => wakes[0]![0]!, wakesOfB: () => wakes[1]![0]! };
}

describe('connection ring buffers', () => {
  it('keeps bytes in order across the wrap with random chunk sizes, bounded by the capacity (seeded)', () => {
    const { a, b } = pair(61);
    const next = seededRandom(25);
    let sent = 0;
    let received = 0;
    for (let round = 0; round < 5_000; round++) {
      const size = Math.floor(next() * 100);
      const chunk = Uint8Array.from({ length: size }, (_, i) => (sent + i) & 0xff);
      const taken = a.write(chunk) as number;
      expect(taken).toBeLessThanOrEqual(size);
      sent += taken;
      expect(sent - received).toBeLessThanOrEqual(61);
      const got = b.read(Math.floor(next() * 100));
      if (got instanceof Uint8Array) {
        got.forEach((byte, i) => expect(byte).toBe((received + i) & 0xff));
        received += got.length;
      } else expect(got).toBe('empty');
    }
    expect(sent).toBeGreaterThan(10_000);
  });

  it('answers full and empty, and wakes the peer only when it may be waiting', () => {
    const { a, b, wakesOfB, wakesOfA } = pair(16);
    expect(b.read(10)).toBe('empty');
    expect(a.write(new Uint8Array(10))).toBe(10);
    expect(wakesOfB()).toBe(1); // the ring was empty: b may have been waiting
    expect(a.write(new Uint8Array(10))).toBe(6);
    expect(wakesOfB()).toBe(1);
    expect(a.writable()).toBe(0);
    expect(a.write(new Uint8Array(1))).toBe(0);
    expect((b.read(4) as Uint8Array).length).toBe(4);
    expect(wakesOfA()).toBe(1); // the ring was full: a may have been waiting
    expect((b.read(4) as Uint8Array).length).toBe(4);
    expect(wakesOfA()).toBe(1);
    expect(b.readable).toBe(true);
  });

  it('reads the data, then the end after a FIN; shutdown(receive) discards; close and reset reach the peer', () => {
    const { a, b } = pair();
    a.write(new TextEncoder().encode('bye'));
    a.shutdownSend();
    expect(a.writable()).toBe('closed');
    expect(new TextDecoder().decode(b.read(100) as Uint8Array)).toBe('bye');
    expect(b.read(100)).toBe('eof');
    // the other direction still works (half-close)
    expect(b.write(new Uint8Array(3))).toBe(3);
    a.shutdownReceive();
    expect(a.read(10)).toBe('eof');
    expect(b.write(new Uint8Array(100))).toBe(100); // discarded
    b.close();
    expect(b.finished).toBe(true);
    expect(a.read(1)).toBe('eof');

    const second = pair();
    second.b.close();
    expect(second.a.writable()).toBe('reset'); // writing to a closed socket: connection-reset
    const third = pair();
    third.a.write(new Uint8Array(5));
    third.a.reset();
    expect(third.b.read(10)).toBe('reset'); // data after a reset is not delivered
    expect(third.b.writable()).toBe('reset');
  });

  it('refuses a buffer that is not a connection buffer', () => {
    expect(() => new RingEndpoint({ buffer: new SharedArrayBuffer(100), side: 0, peer: { buffer: new SharedArrayBuffer(4), index: 0 } })).toThrow(RangeError);
    expect(() => createConnectionBuffer(3)).toThrow(RangeError);
  });
});
