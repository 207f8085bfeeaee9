// The list-type table (list-types.ts) is checked against the kind schemas: every entry names an
// array field of its definition, map keys are fields of the items (scalars), sets hold scalars, merge
// keys are the first map key; and server-side apply's field sets and merge follow it.
import { describe, expect, it } from 'vitest';
import { fieldPaths, removePath, toFieldsV1 } from '../../../control-plane/api/managed-fields.js';
import { mergeApplied } from '../../../control-plane/api/structured-merge.js';
import { applyStrategicMergePatch } from '../../../control-plane/api/patch/strategic-merge-patch.js';
import { ATOMIC_LIST_FIELDS, ATOMIC_MAP_FIELDS, ATOMIC_STRUCT_MODELS, GRANULAR_MAP_FIELDS } from '../../../control-plane/resources/schema/atomic-fields.js';
import { LIST_SEMANTICS } from '../../../control-plane/resources/schema/list-types.js';
import { definitionNameOf, resolveSchema, schemaDefinitions, type SchemaNode } from '../../../control-plane/resources/schema/object-schemas.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import kubeSchemas from '../../../control-plane/resources/schema/kube-schemas.json' with { type: 'json' };

/** Every definition reachable from a served kind, by name. */
function servedModels(): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !schemaDefinitions[name]) return;
    seen.add(name);
    for (const node of Object.values(schemaDefinitions[name]!.properties ?? {})) {
      for (const n of [node, node.items, node.additionalProperties, node.items?.additionalProperties] as Array<SchemaNode | undefined>) if (n?.$ref) visit(n.$ref);
    }
  };
  for (const model of Object.values((kubeSchemas as { kinds: Record<string, string> }).kinds)) visit(model);
  return seen;
}

const flatten = (table: Readonly<Record<string, readonly string[]>>) => Object.entries(table).flatMap(([model, fields]) => fields.map((f) => `${model}.${f}`));
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
      if (s.listType === 'set') expect(['string', 'integer', 'number'], entry).toContain(items.type);
      if (s.patchStrategy && s.listType !== 'set') expect(s.patchMergeKey, entry).toBeDefined();
    }
  });

  it('every array and map field of every served kind has a decision: a list type, or explicitly atomic / granular', () => {
    const models = servedModels();
    // every kind the API serves is in the walk
    for (const type of Object.values(resourceTypes)) {
      const model = definitionNameOf(type.apiVersion, type.kind);
      if (model) expect(models.has(model), type.kind).toBe(true);
    }
    const atomicLists = new Set(flatten(ATOMIC_LIST_FIELDS));
    const granularMaps = new Set(flatten(GRANULAR_MAP_FIELDS));
    const undecided: string[] = [];
    const twice: string[] = [];
    for (const model of models) {
      for (const [field, node] of Object.entries(schemaDefinitions[model]!.properties ?? {})) {
        const entry = `${model}.${field}`;
        if (node.type === 'array') {
          const decisions = Number(entry in LIST_SEMANTICS) + Number(atomicLists.has(entry));
          if (decisions === 0) undecided.push(`list ${entry}`);
          if (decisions > 1) twice.push(entry);
        } else if (node.additionalProperties) {
          const decisions = Number(ATOMIC_MAP_FIELDS.has(entry)) + Number(granularMaps.has(entry));
          if (decisions === 0) undecided.push(`map ${entry}`);
          if (decisions > 1) twice.push(entry);
        }
      }
    }
    expect(undecided, 'fields with no list-type / map-type decision (list-types.ts, atomic-fields.ts)').toEqual([]);
    expect(twice, 'fields decided twice').toEqual([]);
    // and no stale entry: each names a served field of the right shape
    for (const entry of atomicLists) {
      const [model, field] = entry.split('.') as [string, string];
      expect(models.has(model) && schemaDefinitions[model]?.properties?.[field]?.type, entry).toBe('array');
    }
    for (const entry of [...granularMaps, ...ATOMIC_MAP_FIELDS]) {
      const [model, field] = entry.split('.') as [string, string];
      expect(models.has(model) && schemaDefinitions[model]?.properties?.[field]?.additionalProperties, entry).toBeTruthy();
    }
    for (const model of ATOMIC_STRUCT_MODELS) expect(schemaDefinitions[model]?.properties, model).toBeDefined();
  });

  it('owns atomic structs and atomic maps whole: owner references by uid alone, a pod nodeSelector as one field', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }] },
      spec: { nodeSelector: { zone: 'a', disk: 'ssd' }, containers: [{ name: 'main', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] },
    };
    const f = toFieldsV1(fieldPaths(pod)) as any;
    expect(f['f:metadata']['f:ownerReferences']).toEqual({ 'k:{"uid":"u1"}': {} });
    expect(f['f:spec']['f:nodeSelector']).toEqual({});
    expect(f['f:spec']['f:containers']['k:{"name":"main"}']['f:env']['k:{"name":"A"}']['f:valueFrom']['f:secretKeyRef']).toEqual({});
    const merged = mergeApplied(pod, { ...pod, spec: { ...pod.spec, nodeSelector: { zone: 'b' } } }) as any;
    expect(merged.spec.nodeSelector).toEqual({ zone: 'b' }); // replaced, not merged key by key
    // an applier that stops sending an atomic item loses it whole
    const copy = structuredClone(pod);
    removePath(copy, ['f:metadata', 'f:ownerReferences', 'k:{"uid":"u1"}']);
    expect(copy.metadata.ownerReferences).toEqual([]);
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
