// A pod's effective resource request, computed the kubelet's and the scheduler's way (KEP-753 sidecars
// included): the app containers plus the sidecars (restartable init containers) together, or the
// largest ordinary init container plus the sidecars started before it, whichever is more. A container's
// request defaults to its limit, as the API server defaults it. Shared by the scheduler (fit) and the
// agent (admission), so both count the same pods the same way.
import { parseBytes, parseMillicores } from '../quantity.js';
import type { Container, Pod } from './pod.js';

export type RequestResource = 'cpu' | 'memory';

const parsers: Record<RequestResource, (text: string) => number> = { cpu: parseMillicores, memory: parseBytes };

/** The container's request of `resource` (millicores, bytes); 0 when unset or unreadable (the API
 * server refuses unreadable quantities; a stored one must not break scheduling). */
export function containerRequest(c: Container, resource: RequestResource): number {
  const text = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  if (text === undefined) return 0;
  try {
    return parsers[resource](String(text));
  } catch {
    return 0;
  }
}

/** The pod's effective request of `resource` (millicores for cpu, bytes for memory). */
export function podRequest(pod: Pod, resource: RequestResource): number {
  let sidecars = 0;
  let initPeak = 0;
  for (const c of pod.spec.initContainers ?? []) {
    const request = containerRequest(c, resource);
    if (c.restartPolicy === 'Always') {
      sidecars += request;
      initPeak = Math.max(initPeak, sidecars);
    } else {
      initPeak = Math.max(initPeak, sidecars + request);
    }
  }
  const app = pod.spec.containers.reduce((sum, c) => sum + containerRequest(c, resource), 0) + sidecars;
  return Math.max(app, initPeak);
}
