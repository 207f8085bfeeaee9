import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aPod } from '../support/test-resources.js';
import { openTestApi, readEvents, tableAccept, type TestApi } from '../support/test-api.js';

let api: TestApi;
beforeEach(async () => { api = await openTestApi({ bookmarkIntervalMs: 1000, keepRevisions: 1 }); });
afterEach(async () => { await api.close(); });

const podsPath = '/api/v1/namespaces/default/pods';

describe('watch over HTTP', () => {
  it('streams ADDED, MODIFIED and DELETED as one JSON event per line', async () => {
    const list = await (await api.call('GET', podsPath)).json() as { metadata: { resourceVersion: string } };
    const res = await api.call('GET', `${podsPath}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    await api.call('POST', podsPath, { body: aPod('web') });
    await api.call('PATCH', `${podsPath}/web`, { body: { metadata: { labels: { a: 'b' } } }, contentType: 'application/merge-patch+json' });
    await api.call('DELETE', `${podsPath}/web`);
    const events = await readEvents(res, 3);
    await res.body?.cancel();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'web'], ['MODIFIED', 'web'], ['DELETED', 'web']]);
  });

  it('replays current objects for resourceVersion=0 with a name field selector', async () => {
    await api.call('POST', podsPath, { body: aPod('a') });
    await api.call('POST', podsPath, { body: aPod('b') });
    const res = await api.call('GET', `${podsPath}?watch=1&resourceVersion=0&fieldSelector=metadata.name%3Db`);
    const events = await readEvents(res, 1);
    await res.body?.cancel();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'b']]);
  });

  it('serves the legacy /watch/ path prefix', async () => {
    await api.call('POST', podsPath, { body: aPod('a') });
    const res = await api.call('GET', '/api/v1/watch/namespaces/default/pods?resourceVersion=0');
    const events = await readEvents(res, 1);
    await res.body?.cancel();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'a']]);
  });

  it('sends bookmarks when allowed', async () => {
    const res = await api.call('GET', `${podsPath}?watch=true&allowWatchBookmarks=true`);
    const created = await (await api.call('POST', podsPath, { body: aPod('a') })).json() as { metadata: { resourceVersion: string } };
    const [added] = await readEvents(res, 1);
    expect(added?.type).toBe('ADDED');
    api.clock.advance(1000);
    const [bookmark] = await readEvents(res, 1);
    await res.body?.cancel();
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: created.metadata.resourceVersion } } });
  });

  it('reports a compacted resourceVersion as an ERROR event with a 410 Expired Status', async () => {
    for (const n of ['a', 'b', 'c']) await api.call('POST', podsPath, { body: aPod(n) });
    await api.store.compact(await api.store.currentRevision());
    const res = await api.call('GET', `${podsPath}?watch=true&resourceVersion=2`);
    const events = await readEvents(res, 2);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('closes the stream after timeoutSeconds', async () => {
    const res = await api.call('GET', `${podsPath}?watch=true&timeoutSeconds=5`);
    api.clock.advance(5000);
    expect(await readEvents(res, 1)).toEqual([]);
  });

  it('answers a bad selector with 400 before streaming', async () => {
    const res = await api.call('GET', `${podsPath}?watch=true&fieldSelector=spec.nope%3Dx`);
    expect(res.status).toBe(400);
  });

  it('sends one-row Tables with column definitions only in the first event', async () => {
    const res = await api.call('GET', `${podsPath}?watch=true`, { accept: tableAccept });
    await api.call('POST', podsPath, { body: aPod('a') });
    await api.call('POST', podsPath, { body: aPod('b') });
    const events = await readEvents(res, 2);
    await res.body?.cancel();
    expect(events[0]?.object.kind).toBe('Table');
    expect(events[0]?.object.columnDefinitions.length).toBeGreaterThan(0);
    expect(events[1]?.object.columnDefinitions).toEqual([]);
    expect(events[1]?.object.rows[0].cells[0]).toBe('b');
  });
});
