// The unserved-ports annotation on a Node (api/unserved-ports.ts): read back as written, and a
// seeded fuzz of hostile annotation values (malformed JSON, wrong shapes, huge) never throws and
// yields only well-formed entries.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/types/node.js';
import { unservedPortsOf, UNSERVED_PORTS_ANNOTATION } from '../../api/unserved-ports.js';
import { hostileJson, hostileString, seededRandom } from '../support/seeded-random.js';

const node = (value: string | undefined): Node => ({
  apiVersion: 'v1', kind: 'Node', spec: {},
  metadata: { name: 'node-2', ...(value === undefined ? {} : { annotations: { [UNSERVED_PORTS_ANNOTATION]: value } }) },
});

describe('unservedPortsOf', () => {
  it('reads what the node registry writes', () => {
    const list = [{ port: 8080, service: 'default/lb', code: 'EADDRINUSE' }, { port: 80, service: 'web/front', code: 'EACCES' }];
    expect(unservedPortsOf(node(JSON.stringify(list)))).toEqual(list);
    expect(unservedPortsOf(node(undefined))).toEqual([]);
  });

  it('survives a seeded fuzz of hostile annotations', () => {
    const next = seededRandom(41);
    for (let i = 0; i < 2_000; i++) {
      const value = next() < 0.5 ? JSON.stringify(hostileJson(next)) ?? 'undefined' : next() < 0.5 ? hostileString(next, 40) : JSON.stringify([{ port: hostileJson(next, 1), service: hostileJson(next, 1), code: 'E' }]);
      const out = unservedPortsOf(node(value));
      for (const e of out) {
        expect(Number.isSafeInteger(e.port)).toBe(true);
        expect(typeof e.service).toBe('string');
        expect(typeof e.code).toBe('string');
      }
    }
    expect(unservedPortsOf(node(`[${'{"port":1,"service":"a","code":"b"},'.repeat(5_000)}null]`))).toEqual([]);
  });
});
