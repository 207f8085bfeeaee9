// A guest's TCP connection to an address out of the cluster: the same rules as its HTTP requests
// (egress-route.ts: denied unless --allow-egress or an egress ipBlock of a NetworkPolicy selecting
// the pod allows it; the node's loopback and link-local addresses only by the agent flag), then a
// real TCP connection through the agent's network, spliced to the guest's end. A denial is
// access-denied for the guest (destination-IP-prohibited), a refusal connection-refused.
import { connect, type Socket } from 'node:net';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import { checkOutside, type EgressContext } from './egress-route.js';
import type { PolicyEnd } from './policy-check.js';

/** How long connecting out of the cluster may take (the guest has no connect timeout of its own). */
export const OUTSIDE_CONNECT_TIMEOUT_MS = 10_000;

export function connectOutside(context: EgressContext, source: PolicyEnd | undefined, ip: string, port: number,
  timeoutMs = OUTSIDE_CONNECT_TIMEOUT_MS): Promise<Socket> {
  try {
    checkOutside(context, source, ip, port);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: ip, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PodNetworkError('HTTP-response-timeout', `dial tcp ${ip}:${port}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = error.code === 'ECONNREFUSED';
      reject(new PodNetworkError(refused ? 'connection-refused' : 'destination-unavailable', `dial tcp ${ip}:${port}: ${error.code ?? error.message}`));
    });
  });
}
