// The watch cache's label index (folder + label key=value -> keys): equality selectors are answered
// from it, and always agree with a full scan, across a random history of writes and compactions.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { KeyValue, LabelHint } from '../../../control-plane/store/store.js';
import { LabelIndex } from '../../../control-plane/store/watch-cache/label-index.js';
import { openWatchCache, type WatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { FakeClock } from '../../support/fake-clock.js';
import { seededRandom } from '../../support/seeded-random.js';
import { aPod } from '../support/test-resources.js';

const PODS = '/registry/core/pods/';
const folders = [PODS, `${PODS}a/`, `${PODS}b/`, '/registry/core/', '/registry/core/configmaps/a/'];

/** What a caller keeps of a list: the values whose labels match every hint. */
function matches(kv: Readonly<KeyValue>, hints: readonly LabelHint[]): boolean {
  let labels: unknown;
  try {
    labels = (JSON.parse(kv.value) as { metadata?: { labels?: unknown } }).metadata?.labels;
  } catch {
    return false;
  }
  const l = (labels ?? {}) as Record<string, unknown>;
  return hints.every((h) => Object.prototype.hasOwnProperty.call(l, h.key) && h.values.includes(l[h.key] as string));
}

describe('the watch cache\'s label index', () => {
  let cache: WatchCache;
  afterEach(async () => { await cache.close(); });

  it('agrees with a scan, at every page size, across random creates, label changes, deletes and compactions', async () => {
    cache = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }), { historyEvents: 200 });
    const next = seededRandom(13);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const keys = [...['a', 'b', 'c'].flatMap((ns) => Array.from({ length: 25 }, (_, i) => `${PODS}${ns}/p${i}`)),
      ...Array.from({ length: 10 }, (_, i) => `/registry/core/configmaps/a/c${i}`)];
    const randomValue = (): string => {
      const roll = next();
      if (roll < 0.04) return 'not json {';
      if (roll < 0.07) return JSON.stringify({ metadata: { labels: { app: 7, tier: 'web' } } });
      if (roll < 0.1) return JSON.stringify({ metadata: { name: 'x' } });
      if (roll < 0.13) return JSON.stringify({ spec: { labels: { app: 'x' } }, metadata: { labels: { app: pick(['x', 'y']) } } });
      if (roll < 0.16) return JSON.stringify({ kind: 'Pod', metadata: { name: 'n', labels: { app: pick(['x}', 'x}y', 'y']) } } });
      const labels: Record<string, string> = {};
      if (next() < 0.8) labels.app = pick(['x', 'y', 'z']);
      if (next() < 0.5) labels.tier = pick(['web', 'db']);
      if (next() < 0.2) labels['example.com/role'] = pick(['a', '']);
      // status writes: the same labels with another status, the no-parse path of the index
      return JSON.stringify({ kind: 'Pod', metadata: { name: 'n', labels }, spec: { note: 'labels' }, status: { n: Math.floor(next() * 3) } });
    };
    const queries: LabelHint[][] = [
      [{ key: 'app', values: ['x'] }], [{ key: 'app', values: ['x', 'z'] }], [{ key: 'app', values: ['y'] }, { key: 'tier', values: ['web'] }],
      [{ key: 'example.com/role', values: [''] }], [{ key: 'tier', values: ['db', 'web'] }, { key: 'app', values: ['q'] }],
    ];
    const live = new Map<string, number>();
    const checkAll = async (): Promise<void> => {
      for (const folder of folders) for (const hints of queries) {
        const scan = (await cache.list(folder)).items.filter((kv) => matches(kv, hints));
        const indexed = await cache.list(folder, { labels: hints });
        const kept = indexed.items.filter((kv) => matches(kv, hints));
        expect(kept.map((kv) => [kv.key, kv.value])).toEqual(scan.map((kv) => [kv.key, kv.value]));
        // only matches and unreadable values come back: the index answered, nothing was scanned
        expect(indexed.items.filter((kv) => !matches(kv, hints)).every((kv) => kv.value === 'not json {')).toBe(true);
        const pageSize = 1 + Math.floor(next() * 4);
        const paged: string[] = [];
        for (let page = await cache.list(folder, { labels: hints, limit: pageSize }); ; page = await cache.list(folder, { labels: hints, limit: pageSize, startKey: page.nextKey, revision: page.revision })) {
          expect(page.items.length).toBeLessThanOrEqual(pageSize);
          paged.push(...page.items.filter((kv) => matches(kv, hints)).map((kv) => kv.key));
          if (!page.more) break;
        }
        expect(paged).toEqual(scan.map((kv) => kv.key));
      }
    };
    let before: { revision: number; expected: string[] } | undefined;
    for (let step = 0; step < 600; step++) {
      const key = pick(keys);
      const at = live.get(key);
      const roll = next();
      if (at === undefined) live.set(key, await cache.create(key, randomValue()));
      else if (roll < 0.2) {
        await cache.delete(key, at);
        live.delete(key);
      } else if (roll < 0.5) {
        // a status write: the same text up to and past the labels, another status
        const kv = (await cache.get(key))!;
        live.set(key, await cache.update(key, kv.value.replace(/"n":\d/, `"n":${Math.floor(next() * 3)}`), at));
      } else live.set(key, await cache.update(key, randomValue(), at));
      if (step % 97 === 50) await cache.compact(await cache.currentRevision() - Math.floor(next() * 50));
      if (step % 60 === 59) await checkAll();
      if (step === 300) before = { revision: cache.revision, expected: (await cache.list(PODS)).items.filter((kv) => matches(kv, queries[0]!)).map((kv) => kv.key) };
    }
    // a list at an older revision (a continue token's) is not served by the index of now, yet agrees
    const old = await cache.list(PODS, { labels: queries[0]!, revision: before!.revision }).catch((error: Error) => error);
    if (!(old instanceof Error)) expect(old.items.filter((kv) => matches(kv, queries[0]!)).map((kv) => kv.key)).toEqual(before!.expected);
    expect((await cache.list(PODS, { labels: queries[0]! })).items.length).toBeGreaterThan(3);
  });

  it('re-reads labels when an update keeps the text before them but not the labels themselves', () => {
    const index = new LabelIndex();
    const key = `${PODS}a/p`;
    const put = (value: string, previous?: string) => index.set(key, { key, value, modRevision: 1, createRevision: 1 }, previous);
    const found = (value: string) => [...index.candidates(PODS, [{ key: 'app', values: [value] }])!];
    const v1 = JSON.stringify({ metadata: { labels: { app: 'x}' } }, status: 1 });
    const v2 = JSON.stringify({ metadata: { labels: { app: 'x}y' } }, status: 1 });
    put(v1);
    put(v2, v1);
    expect([found('x}'), found('x}y')]).toEqual([[], [key]]);
    const v3 = JSON.stringify({ metadata: { labels: { app: 'x}y' } }, status: 2 });
    put(v3, v2);
    expect(found('x}y')).toEqual([key]);
    // a second "labels": the first is not metadata.labels
    const v4 = JSON.stringify({ spec: { labels: { app: 'q' } }, metadata: { labels: { app: 'y' } } });
    const v5 = JSON.stringify({ spec: { labels: { app: 'q' } }, metadata: { labels: { app: 'z' } } });
    put(v4, v3);
    put(v5, v4);
    expect([found('y'), found('z'), found('q')]).toEqual([[], [key], []]);
  });

  describe('through ResourceStore label selectors', () => {
    let resources: ResourceStore;
    beforeEach(async () => {
      cache = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
      resources = new ResourceStore(cache, { clock: new FakeClock() });
      await ensureInitialNamespaces(resources);
    });

    const names = (pods: Pod[]) => pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

    it('serves `app=x`, `in (...)`, paged with continue, and leaves other selectors to the scan', async () => {
      await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
      await resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'other' } }); // what the ServiceAccount controller would create
      const next = seededRandom(47);
      for (let i = 0; i < 60; i++) {
        const labels = { app: ['x', 'y', 'z'][i % 3]!, ...(next() < 0.5 ? { tier: 'web' } : {}) };
        await resources.create(resourceTypes.pods, aPod(`p${i}`, { namespace: i > 0 && next() < 0.3 ? 'other' : 'default', labels }));
      }
      await resources.mutate<Pod>(resourceTypes.pods, 'default', 'p0', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'y' } } }));
      const everything = (await resources.list<Pod>(resourceTypes.pods)).items;
      for (const [selector, namespace] of [['app=x', 'default'], ['app=x', undefined], ['app in (x,z),tier=web', undefined], ['app==y,tier!=web', 'other'], ['tier', undefined]] as const) {
        const want = everything.filter((p) => (!namespace || p.metadata.namespace === namespace) && selects(selector, p.metadata.labels ?? {}));
        const whole = await resources.list<Pod>(resourceTypes.pods, { labelSelector: selector, ...(namespace ? { namespace } : {}) });
        expect(names(whole.items)).toEqual(names(want));
        const paged: Pod[] = [];
        let token: string | undefined;
        do {
          const page = await resources.list<Pod>(resourceTypes.pods, { labelSelector: selector, limit: 4, ...(namespace ? { namespace } : {}), ...(token ? { continue: token } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(4);
          paged.push(...page.items);
          token = page.metadata.continue;
        } while (token);
        expect(names(paged)).toEqual(names(want));
      }
    });
  });
});

/** The selectors of the test above, matched by hand. */
function selects(selector: string, labels: Record<string, string>): boolean {
  switch (selector) {
    case 'app=x': return labels.app === 'x';
    case 'app in (x,z),tier=web': return (labels.app === 'x' || labels.app === 'z') && labels.tier === 'web';
    case 'app==y,tier!=web': return labels.app === 'y' && labels.tier !== 'web';
    case 'tier': return 'tier' in labels;
    default: throw new Error(selector);
  }
}
