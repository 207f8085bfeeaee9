// Which ConfigMaps and Secrets a pod references (env valueFrom, envFrom, configMap/secret volumes,
// projected sources): the desired publisher sends exactly those to the pod's node.
import type { Pod } from '../../api/types/pod.js';

export interface ConfigRefs {
  /** `namespace/name` keys */
  configMaps: Set<string>;
  secrets: Set<string>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function podConfigRefs(pod: Pod, into: ConfigRefs = { configMaps: new Set(), secrets: new Set() }): ConfigRefs {
  const ns = pod.metadata.namespace ?? 'default';
  const add = (set: Set<string>, name: string | undefined) => {
    if (name) set.add(`${ns}/${name}`);
  };
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.env ?? []) {
      add(into.configMaps, str(obj(obj(e.valueFrom)?.['configMapKeyRef'])?.['name']));
      add(into.secrets, str(obj(obj(e.valueFrom)?.['secretKeyRef'])?.['name']));
    }
    for (const from of (c['envFrom'] as Obj[] | undefined) ?? []) {
      add(into.configMaps, str(obj(from['configMapRef'])?.['name']));
      add(into.secrets, str(obj(from['secretRef'])?.['name']));
    }
  }
  for (const v of pod.spec.volumes ?? []) {
    add(into.configMaps, str(obj(v['configMap'])?.['name']));
    add(into.secrets, str(obj(v['secret'])?.['secretName']));
    for (const source of (obj(v['projected'])?.['sources'] as Obj[] | undefined) ?? []) {
      add(into.configMaps, str(obj(source['configMap'])?.['name']));
      add(into.secrets, str(obj(source['secret'])?.['name']));
    }
  }
  return into;
}
