import { describe, expect, it } from 'vitest';
import { indexedFilter, RetainedIndex } from '../../control-plane/broker/retained-index.js';
import { seededRandom } from '../support/seeded-random.js';

/** MQTT 3.1.1 filter matching (section 4.7), the reference the index must agree with. */
function matches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && /^[+#]/.test(filter)) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('retained message index', () => {
  it('answers exact filters and a trailing +, and leaves the rest to the scan', () => {
    expect(indexedFilter('skiff/nodes/a/desired')).toEqual({ exact: 'skiff/nodes/a/desired' });
    expect(indexedFilter('skiff/nodes/a/rpc/req/+')).toEqual({ childrenOf: 'skiff/nodes/a/rpc/req' });
    for (const scan of ['#', '+', 'a/#', 'a/+/b', '+/b', '$SYS/x', 'a/+/+']) expect(indexedFilter(scan)).toBeUndefined();
  });

  it('forgets a topic retained with an empty payload', () => {
    const index = new RetainedIndex();
    index.store({ topic: 'a/b', payload: 'x' });
    index.store({ topic: 'a/c', payload: 'y' });
    index.store({ topic: 'a/b', payload: '' });
    expect(index.lookup(['a/+'])!.map((p) => p.topic)).toEqual(['a/c']);
    expect(index.lookup(['a/b'])).toEqual([]);
    expect(index.lookup(['a/#'])).toBeUndefined();
    expect(index.size).toBe(1);
  });

  it('agrees with MQTT filter matching on seeded random topics, filters and deletions', () => {
    const random = seededRandom(44);
    const words = ['skiff', 'nodes', 'n1', 'n2', 'rpc', 'req', '', 'desired', 'x'];
    const word = () => words[Math.floor(random() * words.length)]!;
    const topic = () => Array.from({ length: 1 + Math.floor(random() * 5) }, word).join('/');
    const index = new RetainedIndex();
    const reference = new Map<string, string>();
    let checked = 0;
    for (let step = 0; step < 4_000; step++) {
      const t = topic();
      const payload = random() < 0.2 ? '' : `p${step}`;
      index.store({ topic: t, payload });
      if (payload) reference.set(t, payload);
      else reference.delete(t);
      const f = random() < 0.5 ? topic() : `${topic()}/+`;
      const found = index.lookup([f]);
      if (!found) continue;
      checked++;
      const expected = [...reference.keys()].filter((k) => matches(f, k)).sort();
      expect(found.map((p) => p.topic).sort()).toEqual(expected);
    }
    expect(checked).toBeGreaterThan(3_000);
  });
});
