// Table printers by plural: nodes, namespaces, events, leases here, the other kinds in their own files, a Name/Age fallback.
import type { KubeObject } from '../../../api/types/meta.js';
import type { Event, Lease, Namespace, Node } from '../../../api/types/node.js';
import { ageOf } from './human-duration.js';
import { configMapPrinter, hpaPrinter, persistentVolumeClaimPrinter, persistentVolumePrinter, secretPrinter, serviceAccountPrinter } from './config-printers.js';
import { podPrinter } from './pod-printer.js';
import { limitRangePrinter, podDisruptionBudgetPrinter, priorityClassPrinter, resourceQuotaPrinter } from './policy-printers.js';
import { roleBindingPrinter, rolePrinter } from './rbac-printers.js';
import { storageClassPrinter } from './storage-printers.js';
import { endpointSlicePrinter, endpointsPrinter, ingressClassPrinter, ingressPrinter, networkPolicyPrinter, servicePrinter } from './service-printers.js';
import {
  controllerRevisionPrinter, cronJobPrinter, daemonSetPrinter, deploymentPrinter, jobPrinter, replicaSetPrinter, replicationControllerPrinter, statefulSetPrinter,
} from './workload-printers.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

const nodePrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    ageColumn,
    column('Version', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', { priority: 1 }),
    column('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', { priority: 1 }),
    column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
    column('Kernel-Version', 'Kernel Version reported by the node from \'uname -r\' (e.g. 3.16.0-0.bpo.4-amd64).', { priority: 1 }),
    column('Container-Runtime', 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
  ],
  cells(obj, nowMs) {
    const node = obj as Node;
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const statuses = [ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown'];
    if (node.spec?.unschedulable) statuses.push('SchedulingDisabled');
    const roles = Object.keys(node.metadata.labels ?? {})
      .filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.slice('node-role.kubernetes.io/'.length)).filter(Boolean);
    const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address || '<none>';
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata.name, statuses.join(','), roles.length ? roles.sort().join(',') : '<none>', ageOf(node.metadata.creationTimestamp, nowMs),
      info['kubeletVersion'] ?? '', address('InternalIP'), address('ExternalIP'), info['osImage'] || '<unknown>',
      info['kernelVersion'] || '<unknown>', info['containerRuntimeVersion'] || '<unknown>',
    ];
  },
};

const namespacePrinter: KindPrinter = {
  columns: [nameColumn, column('Status', 'The status of the namespace'), ageColumn],
  cells: (obj, nowMs) => [obj.metadata.name, (obj as Namespace).status?.phase ?? '', ageOf(obj.metadata.creationTimestamp, nowMs)],
};

const eventPrinter: KindPrinter = {
  columns: [
    column('Last Seen', 'Time when last event occurred'),
    column('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    column('Reason', 'Reason is why the action was taken. It is human-readable.'),
    column('Object', 'The object this Event is about.'),
    column('Subobject', 'The subobject this Event is about.', { priority: 1 }),
    column('Source', 'The component reporting this event.', { priority: 1 }),
    column('Message', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'Time when first event occurred', { priority: 1 }),
    column('Count', 'The number of times this event has occurred.', { type: 'integer', priority: 1 }),
    column('Name', 'Name must be unique within a namespace.', { format: 'name', priority: 1 }),
  ],
  cells(obj, nowMs) {
    const ev = obj as Event;
    const last = ev.lastTimestamp || ev.eventTime || ev.metadata.creationTimestamp;
    const first = ev.firstTimestamp || ev.eventTime || ev.metadata.creationTimestamp;
    const inv = ev.involvedObject ?? {};
    const source = ev.source?.component ? [ev.source.component, ev.source.host].filter(Boolean).join(', ') : (ev.reportingComponent ?? '');
    return [
      ageOf(last, nowMs), ev.type ?? '', ev.reason ?? '', `${(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`, inv.fieldPath ?? '',
      source, (ev.message ?? '').trim(), ageOf(first, nowMs), ev.count ?? 1, ev.metadata.name,
    ];
  },
};

const leasePrinter: KindPrinter = {
  columns: [nameColumn, column('Holder', 'The holder of the lease.'), ageColumn],
  cells: (obj, nowMs) => [obj.metadata.name, (obj as Lease).spec?.holderIdentity ?? '', ageOf(obj.metadata.creationTimestamp, nowMs)],
};

const defaultPrinter: KindPrinter = {
  columns: [nameColumn, ageColumn],
  cells: (obj: KubeObject, nowMs) => [obj.metadata.name, ageOf(obj.metadata.creationTimestamp, nowMs)],
};

const printers: Record<string, KindPrinter> = {
  pods: podPrinter, nodes: nodePrinter, namespaces: namespacePrinter, events: eventPrinter, leases: leasePrinter,
  deployments: deploymentPrinter, replicasets: replicaSetPrinter, replicationcontrollers: replicationControllerPrinter, daemonsets: daemonSetPrinter, statefulsets: statefulSetPrinter, jobs: jobPrinter, cronjobs: cronJobPrinter,
  controllerrevisions: controllerRevisionPrinter, services: servicePrinter, endpoints: endpointsPrinter,
  endpointslices: endpointSlicePrinter, ingresses: ingressPrinter, ingressclasses: ingressClassPrinter,
  networkpolicies: networkPolicyPrinter, configmaps: configMapPrinter, secrets: secretPrinter,
  serviceaccounts: serviceAccountPrinter, persistentvolumes: persistentVolumePrinter,
  persistentvolumeclaims: persistentVolumeClaimPrinter, horizontalpodautoscalers: hpaPrinter, storageclasses: storageClassPrinter,
  resourcequotas: resourceQuotaPrinter, limitranges: limitRangePrinter, poddisruptionbudgets: podDisruptionBudgetPrinter,
  priorityclasses: priorityClassPrinter,
  roles: rolePrinter, clusterroles: rolePrinter, rolebindings: roleBindingPrinter, clusterrolebindings: roleBindingPrinter,
};

export const printerFor = (plural: string): KindPrinter => printers[plural] ?? defaultPrinter;
