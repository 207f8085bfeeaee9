// Pure Endpoints and EndpointSlice content for a Service with a selector: the matching pods with an
// IP, Ready ones as addresses and the rest as notReadyAddresses, with the Service's ports resolved
// against each pod's (named) container ports.
import type { Pod } from '../../../api/types/pod.js';
import { isPodReady } from '../pod-readiness.js';
import type { EndpointAddress, EndpointPort, EndpointSubset, Service, SliceEndpoint } from '../workload-kinds.js';

const podIP = (pod: Pod) => pod.status?.podIP;

function resolvePorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec.ports ?? []) {
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (/^\d+$/.test(target)) port = Number(target);
    else port = pod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
    if (port === undefined) continue;
    out.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

export interface EndpointsPlan {
  subsets: EndpointSubset[];
  sliceEndpoints: SliceEndpoint[];
  slicePorts: EndpointPort[];
}

export function planEndpoints(service: Service, podsInNamespace: readonly Pod[]): EndpointsPlan {
  const selector = service.spec.selector ?? {};
  const pods = podsInNamespace
    .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v))
    .filter((p) => podIP(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    .sort((a, b) => podIP(a)!.localeCompare(podIP(b)!));
  // pods with the same resolved ports share one subset
  const subsets = new Map<string, EndpointSubset>();
  const sliceEndpoints: SliceEndpoint[] = [];
  let slicePorts: EndpointPort[] = [];
  for (const pod of pods) {
    const ports = resolvePorts(service, pod);
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    const ready = isPodReady(pod) && !terminating;
    const address: EndpointAddress = {
      ip: podIP(pod)!,
      // stable network identity (a StatefulSet's pods): the pod's hostname when its subdomain is this Service
      ...(typeof pod.spec.hostname === 'string' && pod.spec.hostname && pod.spec.subdomain === service.metadata.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', name: pod.metadata.name!, namespace: pod.metadata.namespace!, uid: pod.metadata.uid! },
    };
    const id = JSON.stringify(ports);
    const subset = subsets.get(id) ?? { ports };
    if (ready || (service.spec.publishNotReadyAddresses && !terminating)) subset.addresses = [...(subset.addresses ?? []), address];
    else if (!terminating) subset.notReadyAddresses = [...(subset.notReadyAddresses ?? []), address];
    subsets.set(id, subset);
    sliceEndpoints.push({
      addresses: [address.ip],
      ...(address.hostname ? { hostname: address.hostname } : {}),
      conditions: { ready, serving: isPodReady(pod), terminating },
      ...(address.nodeName ? { nodeName: address.nodeName } : {}),
      targetRef: address.targetRef!,
    });
    if (ports.length > slicePorts.length) slicePorts = ports;
  }
  return {
    subsets: [...subsets.values()].filter((s) => s.addresses?.length || s.notReadyAddresses?.length),
    sliceEndpoints,
    slicePorts,
  };
}
