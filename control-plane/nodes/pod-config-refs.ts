// Which ConfigMaps and Secrets a pod references (env valueFrom, envFrom, configMap/secret volumes,
// projected sources): the desired publisher sends exactly those to the pod's node, as read here.
import { NotFoundError } from '../../api/errors.js';
import type { ConfigData } from '../../api/mqtt/messages.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { resourceTypes } from '../resources/resource-types.js';

type ConfigObject = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

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

/** The referenced objects that exist (a missing one is the agent's CreateContainerConfigError to report). */
export async function readConfigData(resources: ResourceStore, type: typeof resourceTypes.configmaps | undefined, keys: Set<string>): Promise<ConfigData[]> {
  if (!type) return [];
  const out: ConfigData[] = [];
  for (const key of [...keys].sort()) {
    const [namespace, name] = key.split('/') as [string, string];
    try {
      const o = await resources.get<ConfigObject>(type, namespace, name);
      out.push({ namespace, name, data: o.data ?? {}, ...(o.binaryData ? { binaryData: o.binaryData } : {}) });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return out;
}
