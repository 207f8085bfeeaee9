// Builders that keep fixtures short: aPod({...}), aNode({...}).
import type { Node } from '../../api/types/node.js';
import type { Container, Pod } from '../../api/types/pod.js';

export function aPod(name: string, over: { nodeName?: string; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; requests?: Record<string, string>; nodeSelector?: Record<string, string>; tolerations?: Array<Record<string, unknown>>; containers?: Container[]; namespace?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: over.namespace ?? 'default', uid: `uid-${name}` },
    spec: {
      containers: over.containers ?? [{ name: 'main', image: 'examples/hello:latest', ...(over.requests ? { resources: { requests: over.requests } } : {}) }],
      ...(over.nodeName ? { nodeName: over.nodeName } : {}),
      ...(over.nodeSelector ? { nodeSelector: over.nodeSelector } : {}),
      ...(over.tolerations ? { tolerations: over.tolerations } : {}),
    },
    ...(over.phase ? { status: { phase: over.phase } } : {}),
  };
}

export function aNode(name: string, over: { ready?: boolean; cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; unschedulable?: boolean; taints?: Node['spec']['taints'] } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...over.labels } },
    spec: { podCIDR: '10.42.1.0/24', ...(over.unschedulable ? { unschedulable: true } : {}), ...(over.taints ? { taints: over.taints } : {}) },
    status: {
      allocatable: { cpu: over.cpu ?? '4', memory: over.memory ?? '8Gi', pods: over.pods ?? '110' },
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    },
  };
}
