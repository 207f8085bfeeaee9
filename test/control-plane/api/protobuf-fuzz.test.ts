// Seeded fuzz of the protobuf decoder for every kind kubectl sends as protobuf: random and mutated
// message bytes in a valid k8s\0 envelope either decode to an object or fail with an API error (4xx),
// never with anything else.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../api/errors.js';
import { decodeProtobufObject } from '../../../control-plane/api/protobuf.js';
import { seededRandom } from '../../support/seeded-random.js';

const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const field = (num: number, bytes: Uint8Array | number[]): number[] => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
const text = (s: string) => [...Buffer.from(s)];

function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const typeMeta = [...field(1, text(apiVersion)), ...field(2, text(kind))];
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...field(1, typeMeta), ...field(2, raw)]);
}

const KINDS = [
  ['v1', 'ServiceAccount'], ['v1', 'Pod'], ['networking.k8s.io/v1', 'Ingress'], ['autoscaling/v1', 'HorizontalPodAutoscaler'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'], ['batch/v1', 'CronJob'], ['v1', 'ResourceQuota'], ['policy/v1', 'PodDisruptionBudget'],
  ['scheduling.k8s.io/v1', 'PriorityClass'],
] as const;

/** A random message: nested length-delimited fields, varints and junk, up to `depth` levels. */
function randomMessage(r: () => number, depth: number): number[] {
  const out: number[] = [];
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const num = 1 + Math.floor(r() * 30);
    const roll = r();
    if (roll < 0.4 && depth > 0) out.push(...field(num, randomMessage(r, depth - 1)));
    else if (roll < 0.6) out.push(...varint(num << 3), ...varint(Math.floor(r() * 2 ** 31)));
    else if (roll < 0.8) out.push(...field(num, text(String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 256))))));
    else out.push(...Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
  }
  return out;
}

describe('protobuf decoder fuzz', () => {
  it('decodes or refuses 4000 seeded random messages of every kind, never throwing anything but an API error', () => {
    const r = seededRandom(20_261_206);
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const [apiVersion, kind] = KINDS[i % KINDS.length]!;
      const body = envelope(apiVersion, kind, Uint8Array.from(randomMessage(r, 5)));
      try {
        const obj = decodeProtobufObject(body);
        expect(obj.kind).toBe(kind);
        decoded++;
      } catch (error) {
        expect(error, `${kind} #${i}`).toBeInstanceOf(ApiError);
        expect((error as ApiError).code).toBeLessThan(500);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
