// Per-kind defaulting applied on create and update, before validation.
import type { KubeObject } from '../../api/types/meta.js';
import type { Namespace } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { defaultPod } from './pod-defaults.js';
import type { ResourceType } from './resource-types.js';

export function applyDefaults(type: ResourceType, obj: KubeObject): void {
  switch (type.plural) {
    case 'pods':
      defaultPod(obj as Pod);
      break;
    case 'namespaces':
      defaultNamespace(obj as Namespace);
      break;
  }
}

function defaultNamespace(ns: Namespace): void {
  ns.spec ??= {};
  ns.spec.finalizers ??= ['kubernetes'];
  ns.status ??= {};
  ns.status.phase ??= 'Active';
  const name = ns.metadata.name;
  if (name) ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': name };
}
