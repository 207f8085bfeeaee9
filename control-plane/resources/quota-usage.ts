// What ResourceQuota counts: each object's usage of the quota's resource names (pods and their
// cpu/memory requests and limits, services, claims and their storage, `count/<resource>.<group>`),
// the namespace's usage of a quota's hard names, and the quantities as the server prints them.
import { formatBytes, formatMillicores, parseBytes, parseMillicores } from '../../api/quantity.js';
import type { KubeObject } from '../../api/types/meta.js';
import { isTerminalPhase, type Container, type Pod } from '../../api/types/pod.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { Service } from './kinds/services.js';
import { allResourceTypes, resourceTypes, type ResourceType } from './resource-types.js';

export type Usage = Record<string, number>;

const isCpu = (key: string) => key === 'cpu' || key.endsWith('.cpu');
const isBytes = (key: string) => /(^|\.)(memory|storage|ephemeral-storage)$/.test(key);

/** A quantity in the unit usage is counted in (millicores for cpu, bytes for memory and storage, else the number). */
export function quotaAmount(key: string, text: string | number): number {
  try {
    if (isCpu(key)) return parseMillicores(text);
    if (isBytes(key)) return parseBytes(text);
    return Math.ceil(Number(typeof text === 'number' ? text : parseBytes(text)));
  } catch {
    return 0;
  }
}

export function formatAmount(key: string, amount: number): string {
  if (isCpu(key)) return formatMillicores(amount);
  if (isBytes(key)) return amount === 0 ? '0' : formatBytes(amount);
  return String(amount);
}

const countKey = (type: ResourceType) => (type.group ? `count/${type.plural}.${type.group}` : `count/${type.plural}`);

function podAmount(pod: Pod, field: 'requests' | 'limits', resource: string): number {
  const of = (c: Container) => {
    const text = c.resources?.[field]?.[resource] ?? (field === 'requests' ? c.resources?.limits?.[resource] : undefined);
    return text === undefined ? 0 : quotaAmount(resource, String(text));
  };
  const app = (pod.spec?.containers ?? []).reduce((sum, c) => sum + of(c), 0);
  const init = (pod.spec?.initContainers ?? []).reduce((max, c) => Math.max(max, of(c)), 0);
  return Math.max(app, init);
}

/** The object's usage of every name a quota may hold for it. */
export function usageOf(type: ResourceType, obj: KubeObject): Usage {
  const usage: Usage = { [countKey(type)]: 1 };
  if (type === resourceTypes.pods) {
    const pod = obj as Pod;
    if (isTerminalPhase(pod.status?.phase)) return {};
    usage['pods'] = 1;
    for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
      usage[`requests.${r}`] = podAmount(pod, 'requests', r);
      usage[`limits.${r}`] = podAmount(pod, 'limits', r);
      usage[r] = usage[`requests.${r}`]!;
    }
  } else if (type === resourceTypes.services) {
    const svc = obj as Service;
    usage['services'] = 1;
    const type = svc.spec?.type;
    usage['services.loadbalancers'] = type === 'LoadBalancer' ? 1 : 0;
    usage['services.nodeports'] = type === 'NodePort' || type === 'LoadBalancer' ? (svc.spec?.ports ?? []).length : 0;
  } else if (type === resourceTypes.persistentvolumeclaims) {
    const pvc = obj as PersistentVolumeClaim;
    const storage = quotaAmount('requests.storage', String(pvc.spec?.resources?.requests?.['storage'] ?? '0'));
    usage['persistentvolumeclaims'] = 1;
    usage['requests.storage'] = storage;
    const cls = pvc.spec?.storageClassName;
    if (cls) {
      usage[`${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`] = 1;
      usage[`${cls}.storageclass.storage.k8s.io/requests.storage`] = storage;
    }
  } else if (!type.group && ['configmaps', 'secrets', 'resourcequotas', 'replicationcontrollers'].includes(type.plural)) {
    usage[type.plural] = 1;
  }
  return usage;
}

/** The kind whose objects a quota name counts. */
export function typeForQuotaKey(key: string): ResourceType | undefined {
  if (key.startsWith('count/')) {
    const [plural, ...group] = key.slice('count/'.length).split('.');
    return allResourceTypes.find((t) => t.plural === plural && t.group === group.join('.') && !t.storageVersion);
  }
  if (key === 'pods' || /^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(key)) return resourceTypes.pods;
  if (key.startsWith('services')) return resourceTypes.services;
  if (key === 'persistentvolumeclaims' || key === 'requests.storage' || key.includes('.storageclass.storage.k8s.io/')) return resourceTypes.persistentvolumeclaims;
  return allResourceTypes.find((t) => !t.group && t.plural === key);
}

/** The usage of `keys` by `objects` (all of one namespace, any kinds). */
export function totalUsage(keys: readonly string[], objects: ReadonlyArray<{ type: ResourceType; obj: KubeObject }>): Usage {
  const used: Usage = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const { type, obj } of objects) {
    if (obj.metadata.deletionTimestamp && type === resourceTypes.pods) continue;
    const u = usageOf(type, obj);
    for (const k of keys) used[k]! += u[k] ?? 0;
  }
  return used;
}
