// The list-type table (list-types.ts) is checked against the kind schemas: every entry names an
// array field of its definition, map keys are fields of the items (scalars), sets hold scalars, merge
// keys are the first map key; and server-side apply's field sets and merge follow it.
import { describe, expect, it } from 'vitest';
import { fieldPaths, toFieldsV1 } from '../../../control-plane/api/managed-fields.js';
import { mergeApplied } from '../../../control-plane/api/structured-merge.js';
import { applyStrategicMergePatch } from '../../../control-plane/api/patch/strategic-merge-patch.js';
import { LIST_SEMANTICS } from '../../../control-plane/resources/schema/list-types.js';
import { resolveSchema, schemaDefinitions } from '../../../control-plane/resources/schema/object-schemas.js';
import { hostileJson, seededRandom } from '../../support/seeded-random.js';

describe('list types of the Kubernetes types', () => {
  it('every entry names an array of its definition, with keys that are scalar fields of the items', () => {
    for (const [entry, s] of Object.entries(LIST_SEMANTICS)) {
      const [model, field] = entry.split('.') as [string, string];
      const node = schemaDefinitions[model]?.properties?.[field];
      expect(node?.type, entry).toBe('array');
      const items = resolveSchema(node!.items!);
      if (s.listType === 'map') {
        expect(s.keys?.length, entry).toBeGreaterThan(0);
        for (const k of s.keys!) expect(['string', 'integer'], `${entry} key ${k}`).toContain(items.properties?.[k]?.type);
        if (s.patchMergeKey) expect(s.patchMergeKey, entry).toBe(s.keys![0]);
      }
      if (s.listType === 'set') expect(['string', 'integer'], entry).toContain(items.type);
      if (s.patchStrategy && s.listType !== 'set') expect(s.patchMergeKey, entry).toBeDefined();
    }
  });

  const deployment = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers: ['a'] },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { spec: { containers, ...extra } } },
  });

  it('owns list-map items by all their keys (defaults filled), sets by value, atomic lists and selectors whole', () => {
    const obj = deployment([{ name: 'main', ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'UDP' }], args: ['a', 'b'] }],
      { topologySpreadConstraints: [{ topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1 }] });
    const f = toFieldsV1(fieldPaths(obj)) as any;
    const main = f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"main"}'];
    expect(Object.keys(main['f:ports']).sort()).toEqual(['k:{"containerPort":80,"protocol":"TCP"}', 'k:{"containerPort":80,"protocol":"UDP"}']);
    expect(main['f:args']).toEqual({});
    expect(f['f:metadata']['f:finalizers']).toEqual({ 'v:"a"': {} });
    expect(f['f:spec']['f:selector']).toEqual({});
    expect(Object.keys(f['f:spec']['f:template']['f:spec']['f:topologySpreadConstraints'])).toEqual(['k:{"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}']);
  });

  it('merges an applied configuration by the same rules', () => {
    const live = deployment([{ name: 'main', image: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }], args: ['x'] }]);
    const merged = mergeApplied(live, deployment([{ name: 'main', ports: [{ containerPort: 80, protocol: 'UDP' }], args: ['y'] }, { name: 'side', image: 's' }])) as any;
    const containers = merged.spec.template.spec.containers;
    expect(containers.map((c: { name: string }) => c.name)).toEqual(['main', 'side']);
    expect(containers[0]).toEqual({ name: 'main', image: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 80, protocol: 'UDP' }], args: ['y'] });
    expect(merged.metadata.finalizers).toEqual(['a']);
    const selector = mergeApplied({ ...live, spec: { ...live.spec, selector: { matchLabels: { app: 'web', tier: 'x' } } } }, live) as any;
    expect(selector.spec.selector).toEqual({ matchLabels: { app: 'web' } }); // atomic: replaced, not merged
  });

  it('strategic merge patch follows the types: node taints replace, pod finalizers union', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', finalizers: ['a'] }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoSchedule' }] } };
    const patched = applyStrategicMergePatch(node, { metadata: { finalizers: ['b'] }, spec: { taints: [{ key: 'a', effect: 'NoExecute' }] } }) as any;
    expect(patched.spec.taints).toEqual([{ key: 'a', effect: 'NoExecute' }]);
    expect(patched.metadata.finalizers).toEqual(['a', 'b']);
  });

  it('fuzz: typed ownership and merges never throw on hostile objects of served kinds (seeded)', () => {
    const next = seededRandom(51);
    const kinds = [['apps/v1', 'Deployment'], ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Node'], ['batch/v1', 'Job'], ['x/v1', 'Unknown']];
    const shaped = (): unknown => {
      const [apiVersion, kind] = kinds[Math.floor(next() * kinds.length)]!;
      const port = () => (next() < 0.5 ? hostileJson(next, 2) : { containerPort: next() < 0.5 ? 80 : hostileJson(next, 1), protocol: next() < 0.5 ? undefined : hostileJson(next, 1) });
      return {
        apiVersion, kind, metadata: { name: 'x', finalizers: next() < 0.5 ? ['a', hostileJson(next, 1)] : hostileJson(next, 2), labels: hostileJson(next, 2) },
        spec: next() < 0.2 ? hostileJson(next, 3) : {
          selector: hostileJson(next, 2), ports: [port(), port()], taints: hostileJson(next, 2),
          template: { spec: { containers: next() < 0.3 ? hostileJson(next, 3) : [{ name: next() < 0.8 ? 'main' : hostileJson(next, 1), ports: [port(), port()], args: hostileJson(next, 2) }] } },
        },
      };
    };
    for (let i = 0; i < 2000; i++) {
      const a = shaped();
      const b = shaped();
      expect(() => {
        toFieldsV1(fieldPaths(a));
        mergeApplied(a, b);
        applyStrategicMergePatch(a, b);
      }, `case ${i}`).not.toThrow();
    }
  });
});
