// The wire pieces of raw TCP between nodes (decisions 037, 038): frames survive any split of the
// link's bytes and hostile bytes reset the stream, never throw out of it (seeded fuzz); FramedStream
// carries half-close and reset; joinMessages stops reading its local end once a window of bytes
// is unacknowledged and resumes on acks, and ignores hostile messages.
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RELAY_STREAM_WINDOW } from '../../api/mqtt/relay.js';
import { FRAME_DATA, FRAME_FIN, FRAME_RESET, FrameDecoder, FramedStream, frame } from '../../api/net/framed-stream.js';
import { joinMessages } from '../../api/net/message-stream.js';
import { hostileJson, seededRandom } from '../support/seeded-random.js';

/** Two links joined back to back: what one writes the other reads. */
function linkPair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  const a = Duplex.from({ readable: ba, writable: ab });
  const b = Duplex.from({ readable: ab, writable: ba });
  return [a, b];
}

describe('frames', () => {
  it('decode the same whatever the split of the bytes, and reject hostile ones (seeded)', () => {
    const next = seededRandom(3901);
    for (let round = 0; round < 50; round++) {
      const frames = Array.from({ length: 1 + Math.floor(next() * 6) }, () => {
        const size = 1 + Math.floor(next() * 3000);
        return { type: FRAME_DATA, payload: Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256))) };
      });
      frames.push({ type: FRAME_FIN, payload: Buffer.alloc(0) });
      const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.payload)));
      const decoder = new FrameDecoder();
      const out: Array<{ type: number; payload: Buffer }> = [];
      for (let at = 0; at < bytes.length;) {
        const step = 1 + Math.floor(next() * 700);
        out.push(...decoder.push(bytes.subarray(at, at + step)));
        at += step;
      }
      expect(out.map((f) => [f.type, f.payload.toString('hex')])).toEqual(frames.map((f) => [f.type, f.payload.toString('hex')]));
    }
    for (let round = 0; round < 300; round++) {
      const junk = Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
      try {
        new FrameDecoder().push(junk);
      } catch (error) {
        expect((error as Error).message).toMatch(/^(unknown frame type|bad frame length)/);
      }
    }
    expect(() => new FrameDecoder().push(frame(FRAME_DATA))).toThrow(/bad frame length 0/);
    expect(() => new FrameDecoder().push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]))).toThrow(/bad frame length/);
  });

  it('carry a half-close both ways, then a reset as ECONNRESET', async () => {
    const [linkA, linkB] = linkPair();
    const a = new FramedStream(linkA);
    const b = new FramedStream(linkB);
    const gotB: Buffer[] = [];
    b.on('data', (chunk: Buffer) => gotB.push(chunk));
    const bEnded = new Promise((resolve) => b.once('end', resolve));
    a.end(Buffer.alloc(200_000, 3)); // more than one frame, then FIN
    await bEnded;
    expect(Buffer.concat(gotB).equals(Buffer.alloc(200_000, 3))).toBe(true);
    // B still answers after A's FIN
    const gotA: Buffer[] = [];
    a.on('data', (chunk: Buffer) => gotA.push(chunk));
    const aEnded = new Promise((resolve) => a.once('end', resolve));
    b.end('late answer');
    await aEnded;
    expect(Buffer.concat(gotA).toString()).toBe('late answer');

    const [linkC, linkD] = linkPair();
    const c = new FramedStream(linkC);
    const d = new FramedStream(linkD);
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => d.once('error', resolve));
    d.resume();
    c.on('error', () => undefined);
    c.destroy(new Error('gone'));
    expect((await reset).code).toBe('ECONNRESET');
    // a hostile frame resets the reading side
    const [linkE] = linkPair();
    const e = new FramedStream(linkE, Buffer.from([FRAME_RESET + 5, 0, 0, 0, 0]));
    await new Promise((resolve) => e.once('error', resolve));
    expect(e.destroyed).toBe(true);
  });
});

describe('joinMessages', () => {
  it('stops reading after a window of unacknowledged bytes, resumes on acks, ignores hostile messages (seeded)', async () => {
    const local = new PassThrough();
    const sent: Array<Record<string, unknown>> = [];
    const end = joinMessages(local, (m) => sent.push(m), () => undefined);
    const unacked = () => sent.filter((m) => 'data' in m).reduce((n, m) => n + Buffer.from(m['data'] as string, 'base64').length, 0);
    // in chunks, as a pod's stream gives them (the window is checked after each)
    for (let at = 0; at < RELAY_STREAM_WINDOW + 100_000; at += 20_000) local.write(Buffer.alloc(Math.min(20_000, RELAY_STREAM_WINDOW + 100_000 - at), 1));
    await expect.poll(() => local.isPaused()).toBe(true);
    const first = unacked();
    expect(first).toBeGreaterThanOrEqual(RELAY_STREAM_WINDOW);
    expect(first).toBeLessThan(RELAY_STREAM_WINDOW + 100_000);
    const next = seededRandom(3907);
    for (let i = 0; i < 200; i++) end.receive(hostileJson(next));
    end.receive({ ack: -5 });
    end.receive({ ack: RELAY_STREAM_WINDOW + 1 });
    expect(local.isPaused()).toBe(true);
    for (const m of sent.filter((x) => 'data' in x)) end.receive({ ack: Buffer.from(m['data'] as string, 'base64').length });
    await expect.poll(() => unacked()).toBe(RELAY_STREAM_WINDOW + 100_000);
    expect(end.over).toBe(false);
  });
});
