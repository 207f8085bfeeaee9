import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../api/errors.js';
import type { ConfigMap } from '../../../control-plane/resources/kinds/config.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const { pods, configmaps } = resourceTypes;

describe('pod binding writes (subresource binding) and mutate', () => {
  let t: TestResources;
  beforeEach(async () => {
    t = await openTestResources();
  });
  afterEach(() => t.close());

  it('writes spec.nodeName, annotations and status in one write, and nothing else of the body', async () => {
    const created = await t.resources.create<Pod>(pods, aPod('web', { labels: { app: 'web' } }));
    const bound = await t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({
      ...p,
      metadata: { ...p.metadata, labels: { app: 'changed' }, annotations: { 'skiff.dev/pod-ip': '10.42.0.2' } },
      spec: { ...p.spec, nodeName: 'n1', containers: [{ name: 'main', image: 'changed:2' }] },
      status: { ...p.status, conditions: [{ type: 'PodScheduled', status: 'True' }] },
    }), { subresource: 'binding' });
    expect(Number(bound.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const stored = await t.resources.get<Pod>(pods, 'default', 'web');
    expect(stored.spec.nodeName).toBe('n1');
    expect(stored.metadata.annotations).toEqual({ 'skiff.dev/pod-ip': '10.42.0.2' });
    expect(stored.status?.conditions).toEqual([{ type: 'PodScheduled', status: 'True' }]);
    // what a binding does not own stays as stored
    expect(stored.metadata.labels).toEqual({ app: 'web' });
    expect(stored.spec.containers[0]!.image).toBe('registry.local/hello:1.0');
  });

  it('refuses moving a bound pod, and kinds without a binding', async () => {
    await t.resources.create<Pod>(pods, aPod('web', { nodeName: 'n1' }));
    await expect(t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({ ...p, spec: { ...p.spec, nodeName: 'n2' } }), { subresource: 'binding' }))
      .rejects.toBeInstanceOf(ValidationError);
    await t.resources.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } });
    await expect(t.resources.mutate<ConfigMap>(configmaps, 'default', 'c', (c) => ({ ...c, data: { a: '2' } }), { subresource: 'binding' }))
      .rejects.toThrow(/no binding subresource/);
  });

  it('mutate hands fn a copy, and writes nothing when the result is the same object in another key order', async () => {
    const created = await t.resources.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', labels: { a: '1', b: '2' } }, data: { x: '1', y: '2' } });
    const skipped = await t.resources.mutate<ConfigMap>(configmaps, 'default', 'c', (c) => {
      c.data!['x'] = 'changed in the copy';
      return undefined;
    });
    expect(skipped.data).toEqual({ x: '1', y: '2' });
    const reordered = await t.resources.mutate<ConfigMap>(configmaps, 'default', 'c', (c) => ({
      data: { y: '2', x: '1' }, metadata: { ...c.metadata, labels: { b: '2', a: '1' } }, kind: c.kind, apiVersion: c.apiVersion,
    }));
    expect(reordered.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(await t.store.currentRevision()).toBe(Number(created.metadata.resourceVersion));
  });

  it('status writes through mutate leave the spec and metadata as stored and bump no generation', async () => {
    const created = await t.resources.create<Pod>(pods, aPod('web'));
    const running = await t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({
      ...p, metadata: { ...p.metadata, labels: { sneaky: 'yes' } }, status: { ...p.status, phase: 'Running' },
    }), { subresource: 'status' });
    expect(running.status?.phase).toBe('Running');
    expect(running.metadata.labels).toBeUndefined();
    expect(running.metadata.generation).toBe(created.metadata.generation);
    expect((await t.resources.get<Pod>(pods, 'default', 'web')).status?.phase).toBe('Running');
  });

  it('type-checks what a mutate writes: a status write refuses a mistyped status, and ignores the spec it does not write', async () => {
    await t.resources.create<Pod>(pods, aPod('web'));
    await expect(t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({ ...p, status: { ...p.status, phase: 7 as never } }), { subresource: 'status' }))
      .rejects.toBeInstanceOf(ValidationError);
    await expect(t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({ ...p, spec: { ...p.spec, nodeName: 7 as unknown as string } }), { subresource: 'binding' }))
      .rejects.toBeInstanceOf(ValidationError);
    const running = await t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({
      ...p, spec: { ...p.spec, priority: 'high' as unknown as number }, status: { ...p.status, phase: 'Running' },
    }), { subresource: 'status' });
    expect(running.status?.phase).toBe('Running');
    expect((await t.resources.get<Pod>(pods, 'default', 'web')).spec.priority).not.toBe('high');
    await expect(t.resources.mutate<Pod>(pods, 'default', 'web', (p) => ({ ...p, spec: { ...p.spec, priority: 'high' as unknown as number } })))
      .rejects.toBeInstanceOf(ValidationError);
  });
});
