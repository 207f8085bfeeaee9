// Seeded fuzz of the stream frame parsers: whatever a client sends, they classify it and never throw.
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseChannelFrame } from '../../../control-plane/api/streams/remote-command-socket.js';
import { SpdyConnection } from '../../../control-plane/api/streams/spdy/spdy-connection.js';
import {
  decodeHeaderBlock, encodeControlFrame, encodeDataFrame, encodeHeaderBlock, FLAG_FIN, FrameType, RstStatus, SpdyFrameReader, SpdyProtocolError, uint32, type SpdyFrame,
} from '../../../control-plane/api/streams/spdy/spdy-frames.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { BadRequestError } from '../../../api/errors.js';
import { proxyPathOf } from '../../../control-plane/api/streams/proxy-handler.js';
import { parseProxyName } from '../../../control-plane/api/streams/proxy-target.js';

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
        const bytes = randomBytes(next, next() < 0.005 ? 70_000 : 40);
        const frame = parseChannelFrame(bytes, next() < 0.5 ? 'v5.channel.k8s.io' : 'v4.channel.k8s.io');
        if (frame.kind === 'data') {
          expect(frame.channel).toBeLessThanOrEqual(CHANNEL.resize);
          expect(frame.payload.equals(bytes.subarray(1))).toBe(true);
        }
      }
    }
  });
});

describe('SPDY frames', () => {
  it('cuts frames across arbitrary splits of the byte stream', () => {
    const bytes = Buffer.concat([
      encodeControlFrame(FrameType.ping, 0, uint32(7)),
      encodeDataFrame(1, FLAG_FIN, Buffer.from('payload')),
      encodeControlFrame(FrameType.rstStream, 0, uint32(3, RstStatus.cancel)),
    ]);
    const next = seededRandom(5);
    for (let round = 0; round < 200; round++) {
      const reader = new SpdyFrameReader();
      const frames: SpdyFrame[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = 1 + Math.floor(next() * 9);
        frames.push(...reader.push(bytes.subarray(at, at + n)));
        at += n;
      }
      expect(frames.map((f) => (f.kind === 'data' ? `data ${f.streamId} ${f.flags} ${f.payload.toString()}` : `control ${f.type}`)))
        .toEqual([`control ${FrameType.ping}`, 'data 1 1 payload', `control ${FrameType.rstStream}`]);
    }
  });

  it('refuses oversized frames and other SPDY versions, and never throws anything else on seeded random bytes', () => {
    expect(() => new SpdyFrameReader().push(Buffer.from('8003000100ffffff', 'hex'))).toThrow(SpdyProtocolError);
    expect(() => new SpdyFrameReader().push(Buffer.from('8002000100000000', 'hex'))).toThrow(SpdyProtocolError);
    for (const seed of [2, 3, 99]) {
      const next = seededRandom(seed);
      for (let i = 0; i < 2000; i++) {
        const reader = new SpdyFrameReader();
        try {
          reader.push(randomBytes(next, 64));
        } catch (error) {
          expect(error).toBeInstanceOf(SpdyProtocolError);
        }
      }
    }
  });

  it('decodes header blocks, refusing truncated, long and too many fields', () => {
    const block = encodeHeaderBlock({ StreamType: 'data', port: '8080', requestID: '0' });
    expect(decodeHeaderBlock(block)).toEqual(new Map([['streamtype', ['data']], ['port', ['8080']], ['requestid', ['0']]]));
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(SpdyProtocolError);
    expect(() => decodeHeaderBlock(uint32(1_000_000))).toThrow(SpdyProtocolError);
    expect(() => decodeHeaderBlock(Buffer.concat([uint32(1, 0xffffffff)]))).toThrow(SpdyProtocolError);
    const next = seededRandom(11);
    for (let i = 0; i < 3000; i++) {
      const bytes = next() < 0.5 ? randomBytes(next, 80) : Buffer.concat([uint32(Math.floor(next() * 4)), randomBytes(next, 40)]);
      try {
        decodeHeaderBlock(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(SpdyProtocolError);
      }
    }
  });

  it('a connection fed seeded garbage answers or closes, and never throws', async () => {
    for (const seed of [21, 22, 23]) {
      const next = seededRandom(seed);
      for (let i = 0; i < 100; i++) {
        let closed = false;
        const listeners: Array<(b: Buffer) => void> = [];
        const transport = { write: () => undefined, close: () => { closed = true; }, onData: (l: (b: Buffer) => void) => listeners.push(l), onClose: () => undefined };
        const connection = new SpdyConnection(transport, (stream) => stream.reset());
        const garbage = next() < 0.5 ? randomBytes(next, 200)
          : Buffer.concat([encodeControlFrame(FrameType.synStream, 0, Buffer.concat([uint32(1, 0), Buffer.of(0, 0), randomBytes(next, 60)])), randomBytes(next, 40)]);
        for (const l of listeners) l(garbage);
        await new Promise((resolve) => setImmediate(resolve));
        expect(typeof closed).toBe('boolean');
        connection.close();
      }
    }
  });
});

describe('proxy paths and targets', () => {
  it('finds the path after /proxy, keeping its encoding, trailing slash and query', () => {
    const segs = (p: string) => p.split('/').filter(Boolean).map(decodeURIComponent);
    const raw = '/api/v1/namespaces/ns/pods/web:8080/proxy/a%20b/c/';
    expect(proxyPathOf(segs(raw), raw, '?x=1')).toEqual({ kind: 'pods', namespace: 'ns', target: 'web:8080', pathWithQuery: '/a%20b/c/?x=1' });
    expect(proxyPathOf(segs('/api/v1/namespaces/ns/services/s/proxy'), '/api/v1/namespaces/ns/services/s/proxy', '')?.pathWithQuery).toBe('/');
    expect(proxyPathOf(segs('/api/v1/namespaces/ns/secrets/s/proxy'), '/api/v1/namespaces/ns/secrets/s/proxy', '')).toBeUndefined();
    expect(parseProxyName('http:web:80', true)).toEqual({ name: 'web', port: '80' });
    expect(parseProxyName('web:http', false)).toEqual({ name: 'web', port: 'http' });
    for (const bad of ['https:web:80', 'web:80:90', 'Web', 'web:0', 'web:123456', '']) expect(() => parseProxyName(bad, bad.startsWith('https'))).toThrow();
  });

  it('never throws anything but BadRequest on seeded hostile targets', () => {
    const next = seededRandom(77);
    for (let i = 0; i < 3000; i++) {
      const target = hostileString(next, 8);
      try {
        const parsed = parseProxyName(target, next() < 0.5);
        expect(parsed.name).toMatch(/^[a-z0-9.-]+$/);
      } catch (error) {
        expect(error).toBeInstanceOf(BadRequestError);
      }
    }
  });
});
