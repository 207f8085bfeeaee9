// Pod defaulting as the real API server does it (SetDefaults_Pod + DefaultTolerationSeconds admission).
import type { Container, Pod, PodSpec } from '../../api/types/pod.js';
import { quantityValue as parseQuantity } from '../../api/quantity.js';

/** The DefaultTolerationSeconds admission plugin's settings (kube-apiserver flags of the same names). */
export interface DefaultTolerationSeconds {
  notReady: number;
  unreachable: number;
}

export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds = { notReady: 300, unreachable: 300 };

export function defaultPod(pod: Pod, tolerationSeconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS): void {
  const spec = (pod.spec ??= { containers: [] });
  defaultPodSpec(spec);
  // Pod-only: SetDefaults_Pod and the DefaultTolerationSeconds admission plugin (not templates); the
  // Priority plugin (priority-admission.ts) sets spec.priority and spec.preemptionPolicy on create.
  spec['enableServiceLinks'] ??= true;
  addDefaultTolerations(pod, tolerationSeconds);
  const status = (pod.status ??= {}) as Record<string, unknown>;
  status['phase'] ??= 'Pending';
  status['qosClass'] ??= qosClass(pod);
}

/** SetDefaults_PodSpec and container defaults: what pods and pod templates (deployments, jobs...) both get. */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec['securityContext'] ??= {};
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
}

function defaultContainer(c: Container): void {
  if (!c || typeof c !== 'object') return;
  c.imagePullPolicy ??= pullPolicyFor(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // Requests default to limits, so a pod with only limits is Guaranteed.
  if (c.resources.limits) {
    c.resources.requests = { ...c.resources.limits, ...c.resources.requests };
  }
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

/** `:latest` or no tag pulls Always; a digest or other tag pulls IfNotPresent. */
function pullPolicyFor(image: unknown): Container['imagePullPolicy'] {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function addDefaultTolerations(pod: Pod, seconds: DefaultTolerationSeconds): void {
  const tolerations = (pod.spec.tolerations ??= []);
  const defaults: Array<[string, number]> = [['node.kubernetes.io/not-ready', seconds.notReady], ['node.kubernetes.io/unreachable', seconds.unreachable]];
  for (const [key, tolerationSeconds] of defaults) {
    const has = tolerations.some((t) => t['key'] === key && (t['effect'] === undefined || t['effect'] === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds });
  }
}

function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])];
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const { requests = {}, limits = {} } = c?.resources ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) anySet = true;
    for (const r of ['cpu', 'memory']) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || request === undefined || parseQuantity(limit) !== parseQuantity(request)) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
