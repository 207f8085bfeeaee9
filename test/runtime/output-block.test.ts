// The output block between a handler's worker and the runtime, alone: order, streams, the worker's
// own flushes (full, old, oversized) and a seeded fuzz of writes; a reader sees whole records only.
import { describe, expect, it } from 'vitest';
import { createOutputBlock, drainOutputBlock, FLUSH_AFTER_MS, OutputBlockWriter, type OutputStreamName } from '../../runtime/worker/output-block.js';
import { seededRandom } from '../support/seeded-random.js';

type Chunk = [OutputStreamName, string];
const decode = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const encode = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

function harness(bytes: number) {
  let now = 0;
  const got: Chunk[] = [];
  const posted: Chunk[] = [];
  const block = createOutputBlock(bytes);
  const writer = new OutputBlockWriter(block, (stream, chunk) => {
    posted.push([stream, decode(chunk)]);
    got.push([stream, decode(chunk)]);
  }, () => now);
  const drain = () => drainOutputBlock(block, (stream, chunk) => got.push([stream, decode(chunk)]));
  return { writer, got, posted, drain, tick: (ms: number) => (now += ms) };
}

describe('output block', () => {
  it('holds writes until drained, in order, by stream; copies what the guest wrote', () => {
    const { writer, got, posted, drain } = harness(1024);
    const guest = encode('a\n');
    writer.write('stdout', guest);
    guest[0] = 0x7a; // the guest reuses its memory: the block kept a copy
    writer.write('stderr', encode('b\n'));
    writer.write('stdout', new Uint8Array());
    expect(got).toEqual([]);
    drain();
    expect(got).toEqual([['stdout', 'a\n'], ['stderr', 'b\n']]);
    expect(posted).toEqual([]);
    drain();
    expect(got).toHaveLength(2);
  });

  it('posts itself when full, when old, and a chunk larger than the block on its own', () => {
    const { writer, got, posted, drain, tick } = harness(24);
    writer.write('stdout', encode('0123456789'));
    writer.write('stdout', encode('abcdefghij'));
    expect(posted).toEqual([['stdout', '0123456789']]);
    tick(FLUSH_AFTER_MS);
    writer.write('stderr', encode('x'));
    expect(posted.at(-1)).toEqual(['stdout', 'abcdefghij']);
    writer.write('stdout', encode('y'.repeat(40)));
    expect(posted.slice(-2)).toEqual([['stderr', 'x'], ['stdout', 'y'.repeat(40)]]);
    drain();
    expect(got.map(([, text]) => text).join('')).toBe(`0123456789abcdefghijx${'y'.repeat(40)}`);
  });

  it('delivers every byte once and in order, whatever the writes (seeded fuzz)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed);
      const { writer, got, drain, tick } = harness(16 + Math.floor(random() * 200));
      const written: Chunk[] = [];
      for (let i = 0; i < 200; i++) {
        const stream = random() < 0.5 ? 'stdout' : 'stderr';
        const text = String.fromCharCode(...Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
        writer.write(stream, encode(text));
        if (text) written.push([stream, text]);
        tick(random() * 20);
        if (random() < 0.1) drain(); // a request ended
      }
      drain();
      const joined = (chunks: Chunk[], stream: OutputStreamName) => chunks.filter(([s]) => s === stream).map(([, t]) => t).join('');
      expect(joined(got, 'stdout'), `seed ${seed}`).toBe(joined(written, 'stdout'));
      expect(joined(got, 'stderr'), `seed ${seed}`).toBe(joined(written, 'stderr'));
      expect(got.map(([, t]) => t).join(''), `seed ${seed}`).toBe(written.map(([, t]) => t).join(''));
    }
  });

  it('drops a record that runs past what the block says it holds', () => {
    const block = createOutputBlock(64);
    const writer = new OutputBlockWriter(block, () => undefined);
    writer.write('stdout', encode('whole'));
    new DataView(block, 8).setUint32(1, 1_000_000, true); // a length no record has
    const got: string[] = [];
    drainOutputBlock(block, (_, chunk) => got.push(decode(chunk)));
    expect(got).toEqual([]);
  });
});
