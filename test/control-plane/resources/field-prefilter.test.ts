import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { parseFieldSelector, rawFieldPrefilter } from '../../../control-plane/resources/field-selector.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

describe('raw field prefilter', () => {
  const pods = resourceTypes.pods;
  let t: TestResources | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('passes every object whose JSON holds the value, and tells node-1 from node-10', () => {
    const test = rawFieldPrefilter(parseFieldSelector(pods, 'spec.nodeName=node-1'))!;
    expect(test(JSON.stringify(aPod('a', { nodeName: 'node-1' })))).toBe(true);
    expect(test(JSON.stringify(aPod('b', { nodeName: 'node-10' })))).toBe(false);
    expect(test(JSON.stringify(aPod('c')))).toBe(false);
  });

  it('does not prefilter what it cannot check on the raw JSON', () => {
    expect(rawFieldPrefilter(parseFieldSelector(pods, 'spec.nodeName!=node-1'))).toBeUndefined();
    expect(rawFieldPrefilter(parseFieldSelector(pods, 'spec.nodeName='))).toBeUndefined();
    expect(rawFieldPrefilter(parseFieldSelector(resourceTypes.replicasets, 'status.replicas=2'))).toBeUndefined();
  });

  it('leaves list results exactly as the field selector defines them', async () => {
    t = await openTestResources();
    for (const [name, node] of [['a', 'node-1'], ['b', 'node-10'], ['c', 'node-1'], ['d', undefined]] as const) {
      await t.resources.create(pods, aPod(name, node ? { nodeName: node } : {}));
    }
    const names = async (fieldSelector: string) =>
      (await t!.resources.list<Pod>(pods, { fieldSelector })).items.map((p) => p.metadata.name).sort();
    expect(await names('spec.nodeName=node-1')).toEqual(['a', 'c']);
    expect(await names('spec.nodeName=node-10')).toEqual(['b']);
    expect(await names('spec.nodeName=node-1,metadata.name=c')).toEqual(['c']);
    expect(await names('spec.nodeName!=node-1')).toEqual(['b', 'd']);
  });
});
