import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { parseFieldSelector, rawFieldPrefilter } from '../../../control-plane/resources/field-selector.js';
import { matchesLabels, parseLabelSelector, rawLabelPrefilter } from '../../../control-plane/resources/label-selector.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { seededRandom } from '../../support/seeded-random.js';
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

describe('raw label prefilter', () => {
  it('passes every object whose labels hold key=value, and tells app=web from app=web-1', () => {
    const test = rawLabelPrefilter(parseLabelSelector('app=web'))!;
    const labelled = (labels: Record<string, string>) => JSON.stringify({ metadata: { name: 'x', labels } });
    expect(test(labelled({ app: 'web', tier: 'x' }))).toBe(true);
    expect(test(labelled({ app: 'web-1' }))).toBe(false);
    expect(test(labelled({}))).toBe(false);
    expect(rawLabelPrefilter(parseLabelSelector('example.com/app==web'))!(labelled({ 'example.com/app': 'web' }))).toBe(true);
  });

  it('does not prefilter what it cannot check on the raw JSON', () => {
    for (const s of ['app!=web', 'app', '!app', 'app in (a,b)', 'app notin (a)', '']) expect(rawLabelPrefilter(parseLabelSelector(s))).toBeUndefined();
  });

  it('leaves list results exactly as the label selector defines them (seeded)', async () => {
    const t = await openTestResources();
    try {
      const next = seededRandom(47);
      const values = ['web', 'web-1', 'db', 'x"y', 'a,b'];
      for (let i = 0; i < 60; i++) {
        const pod = aPod(`p${i}`);
        const app = values[Math.floor(next() * values.length)]!;
        pod.metadata.labels = { ...(next() < 0.8 ? { app: app.replace(/[",]/g, '-') } : {}), ...(next() < 0.5 ? { tier: 'web' } : {}) };
        if (next() < 0.2) pod.metadata.annotations = { note: '"app":"web"' }; // the needle outside the labels
        await t.resources.create(resourceTypes.pods, pod);
      }
      const all = (await t.resources.list<Pod>(resourceTypes.pods)).items;
      for (const selector of ['app=web', 'app=web,tier=web', 'tier=web', 'app=db', 'app in (web),tier!=web']) {
        const parsed = parseLabelSelector(selector);
        const expected = all.filter((p) => matchesLabels(parsed, p.metadata.labels)).map((p) => p.metadata.name).sort();
        const got = (await t.resources.list<Pod>(resourceTypes.pods, { labelSelector: selector })).items.map((p) => p.metadata.name).sort();
        expect(got).toEqual(expected);
      }
    } finally {
      await t.close();
    }
  });
});
