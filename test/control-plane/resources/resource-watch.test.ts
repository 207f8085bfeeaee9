import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExpiredError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import type { WatchEventType } from '../../../control-plane/resources/resource-store.js';
import { aPod, collector, openTestResources, type TestResources } from '../support/test-resources.js';

const pods = resourceTypes.pods;
let t: TestResources;
beforeEach(async () => { t = await openTestResources({ bookmarkIntervalMs: 1000, keepRevisions: 1 }); });
afterEach(async () => { await t.close(); });

type Seen = [WatchEventType, string | undefined, string | undefined];
const summary = (type: WatchEventType, obj: KubeObject): Seen => [type, obj.metadata.name, obj.metadata.resourceVersion];

describe('ResourceStore watch', () => {
  it('replays current objects as ADDED for resourceVersion 0, then streams changes', async () => {
    await t.resources.create(pods, aPod('a'));
    const seen = collector<Seen>();
    const w = t.resources.watch(pods, { namespace: 'default', resourceVersion: '0' }, (type, o) => seen.push(summary(type, o)), () => {});
    await seen.waitFor(1);
    const b = await t.resources.create(pods, aPod('b'));
    const deleted = await t.resources.delete(pods, 'default', 'a');
    const events = await seen.waitFor(3);
    w.cancel();
    expect(events.map(([type, name]) => [type, name])).toEqual([['ADDED', 'a'], ['ADDED', 'b'], ['DELETED', 'a']]);
    expect(events[1]?.[2]).toBe(b.metadata.resourceVersion);
    expect(Number(events[2]?.[2])).toBeGreaterThan(Number(deleted.metadata.resourceVersion));
  });

  it('resumes after a resourceVersion without replaying', async () => {
    const a = await t.resources.create(pods, aPod('a'));
    await t.resources.create(pods, aPod('b'));
    const seen = collector<Seen>();
    const w = t.resources.watch(pods, { resourceVersion: a.metadata.resourceVersion }, (type, o) => seen.push(summary(type, o)), () => {});
    const events = await seen.waitFor(1);
    w.cancel();
    expect(events.map(([type, name]) => [type, name])).toEqual([['ADDED', 'b']]);
  });

  it('turns objects entering and leaving the selection into ADDED and DELETED', async () => {
    await t.resources.create(pods, aPod('a', { labels: { app: 'web' } }));
    const seen = collector<Seen>();
    const w = t.resources.watch(pods, { labelSelector: 'app=web', resourceVersion: '0' }, (type, o) => seen.push(summary(type, o)), () => {});
    await seen.waitFor(1);
    const relabel = (value: string) => t.resources.mutate<Pod>(pods, 'default', 'a', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: value } } }));
    await relabel('db');
    await relabel('web');
    await t.resources.mutate<Pod>(pods, 'default', 'a', (p) => ({ ...p, metadata: { ...p.metadata, annotations: { x: 'y' } } }));
    const events = await seen.waitFor(4);
    w.cancel();
    expect(events.map(([type]) => type)).toEqual(['ADDED', 'DELETED', 'ADDED', 'MODIFIED']);
  });

  it('sends bookmarks with the latest revision when asked', async () => {
    const seen = collector<Seen>();
    const w = t.resources.watch(pods, { resourceVersion: '0', allowBookmarks: true }, (type, o) => seen.push(summary(type, o)), () => {});
    const a = await t.resources.create(pods, aPod('a'));
    await seen.waitFor(1);
    t.clock.advance(1000);
    const events = await seen.waitFor(2);
    w.cancel();
    expect(events[1]).toEqual(['BOOKMARK', undefined, a.metadata.resourceVersion]);
  });

  it('reports a compacted resourceVersion as Expired', async () => {
    const first = await t.resources.create(pods, aPod('a'));
    for (const n of ['b', 'c', 'd']) await t.resources.create(pods, aPod(n));
    await t.store.compact(await t.store.currentRevision());
    const errors = collector<Error>();
    t.resources.watch(pods, { resourceVersion: String(Number(first.metadata.resourceVersion) - 1) }, () => {}, (e) => errors.push(e));
    const [err] = await errors.waitFor(1);
    expect(err).toBeInstanceOf(ExpiredError);
  });
});
