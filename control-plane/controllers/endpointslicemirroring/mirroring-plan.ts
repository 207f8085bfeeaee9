// What the EndpointSlice mirroring controller writes for one hand-written Endpoints object (of a
// Service without a selector), as Kubernetes' endpointslicemirroring controller does: one slice
// per subset and address family, at most MAX_ENDPOINTS_PER_SLICE addresses each (the rest are
// left out, as --mirroring-max-endpoints-per-subset does), ready addresses with conditions.ready
// true and notReadyAddresses with false; invalid addresses are skipped; ports carried over.
import { isIPv4, isIPv6 } from 'node:net';
import type { EndpointSlice, Endpoints, SliceEndpoint } from '../../resources/kinds/services.js';

export const MAX_ENDPOINTS_PER_SLICE = 1000;
export const MIRRORING_MANAGER = 'endpointslicemirroring-controller.k8s.io';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Endpoints carrying this label (value "true") are not mirrored. */
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';

/** Endpoints labels not copied to the slices (the controller's own and the ones Kubernetes drops). */
const DROPPED_LABELS = new Set([MANAGED_BY_LABEL, SERVICE_NAME_LABEL, SKIP_MIRROR_LABEL]);

export interface MirroredSlice {
  /** Stable name: `<endpoints>-<family>-<subset index>` (Kubernetes uses generateName; names here let the controller update in place). */
  name: string;
  slice: EndpointSlice;
}

export function planMirroredSlices(endpoints: Endpoints): MirroredSlice[] {
  const name = endpoints.metadata.name!;
  const namespace = endpoints.metadata.namespace!;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoints.metadata.labels ?? {})) if (!DROPPED_LABELS.has(k)) labels[k] = v;
  labels[SERVICE_NAME_LABEL] = name;
  labels[MANAGED_BY_LABEL] = MIRRORING_MANAGER;
  const out: MirroredSlice[] = [];
  (Array.isArray(endpoints.subsets) ? endpoints.subsets : []).forEach((subset, index) => {
    const ports = (Array.isArray(subset?.ports) ? subset.ports : [])
      .filter((p) => Number.isSafeInteger(p?.port) && p.port >= 1 && p.port <= 65535)
      .map((p) => ({ name: typeof p.name === 'string' ? p.name : '', port: p.port, protocol: p.protocol ?? 'TCP', ...(typeof p.appProtocol === 'string' ? { appProtocol: p.appProtocol } : {}) }));
    for (const [family, valid] of [['IPv4', isIPv4], ['IPv6', isIPv6]] as const) {
      const items: SliceEndpoint[] = [];
      const seen = new Set<string>();
      for (const [list, ready] of [[subset?.addresses, true], [subset?.notReadyAddresses, false]] as const) {
        for (const address of Array.isArray(list) ? list : []) {
          if (items.length >= MAX_ENDPOINTS_PER_SLICE) break;
          if (typeof address?.ip !== 'string' || !valid(address.ip) || seen.has(address.ip)) continue;
          seen.add(address.ip);
          items.push({
            addresses: [address.ip],
            conditions: { ready },
            ...(typeof address.hostname === 'string' && address.hostname ? { hostname: address.hostname } : {}),
            ...(typeof address.nodeName === 'string' && address.nodeName ? { nodeName: address.nodeName } : {}),
            ...(address.targetRef && typeof address.targetRef === 'object' ? { targetRef: address.targetRef } : {}),
          } as SliceEndpoint);
        }
      }
      if (items.length === 0) continue;
      const sliceName = `${name.slice(0, 200)}-${family.toLowerCase()}-${index}`;
      out.push({
        name: sliceName,
        slice: {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: family,
          metadata: { name: sliceName, namespace, labels },
          endpoints: items,
          ports,
        },
      });
    }
  });
  return out;
}
