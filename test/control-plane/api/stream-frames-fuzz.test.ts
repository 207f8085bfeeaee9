// Seeded fuzz of the stream frame parsers: whatever a client sends, they classify it and never throw.
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseChannelFrame } from '../../../control-plane/api/streams/remote-command-socket.js';
import { seededRandom } from '../../support/seeded-random.js';

const randomBytes = (next: () => number, max: number) => Buffer.from(Array.from({ length: Math.floor(next() * max) }, () => Math.floor(next() * 256)));

describe('remote command channel frames', () => {
  it('parses stdin, close and resize frames and refuses the rest', () => {
    expect(parseChannelFrame(Buffer.of(0, 104, 105), 'v5.channel.k8s.io')).toEqual({ kind: 'data', channel: 0, payload: Buffer.from('hi') });
    expect(parseChannelFrame(Buffer.of(255, 0), 'v5.channel.k8s.io')).toEqual({ kind: 'close', channel: 0 });
    expect(parseChannelFrame(Buffer.of(255, 0), 'v4.channel.k8s.io').kind).toBe('invalid');
    expect(parseChannelFrame(Buffer.of(255, 0, 1), 'v5.channel.k8s.io').kind).toBe('invalid');
    expect(parseChannelFrame(Buffer.of(), 'v5.channel.k8s.io').kind).toBe('invalid');
    expect(parseChannelFrame(Buffer.of(9, 1), 'v5.channel.k8s.io').kind).toBe('invalid');
  });

  it('never throws on seeded random input, and a data frame\'s payload is the bytes after the channel', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const next = seededRandom(seed);
      for (let i = 0; i < 2000; i++) {
        const bytes = randomBytes(next, next() < 0.1 ? 70_000 : 40);
        const frame = parseChannelFrame(bytes, next() < 0.5 ? 'v5.channel.k8s.io' : 'v4.channel.k8s.io');
        if (frame.kind === 'data') {
          expect(frame.channel).toBeLessThanOrEqual(CHANNEL.resize);
          expect(frame.payload.equals(bytes.subarray(1))).toBe(true);
        }
      }
    }
  });
});
