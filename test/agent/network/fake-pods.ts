// Pods on a NodeNetwork for network tests: real PodNetworks whose handler container answers
// `<pod> <authority> <path>` on each port, and a client view making requests as a guest would.
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../../runtime/pod-runtime.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const request = (authority: string, path = '/'): HttpRequest => ({ method: 'GET', pathWithQuery: path, scheme: 'http', authority, headers: [], body: new Uint8Array() });

export function fakePod(node: NodeNetwork, name: string, ip: string | undefined, ports: number[], namespace = 'default') {
  const events: string[] = [];
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    onEvent: (type, reason, message) => events.push(`${type} ${reason}: ${message}`),
    route: (r, ms): Promise<HttpResponse> => node.httpRequest({ namespace, network }, r, ms),
    resolve: async (host) => node.resolve(namespace, host),
  });
  network.serveHttp(`${name}/web/0`, { name: 'web', ports: ports.map((containerPort) => ({ containerPort })) }, async (r: HttpRequest): Promise<HttpResponse> =>
    ({ status: 200, headers: [], body: new TextEncoder().encode(`${name} ${r.authority} ${r.pathWithQuery}`) }));
  if (ip) node.attach(ip, { namespace, name, network });
  const view = network.ports(`${name}/client/0`, 'client', 'spec.containers{client}');
  const get = async (authority: string, path = '/') => text((await view.httpRequest!(request(authority, path), { timeoutMs: 5_000 })).body);
  /** The error-code and message of a failing request ('answered' when it did not fail). */
  const fails = async (authority: string, path = '/') => {
    try {
      await view.httpRequest!(request(authority, path), { timeoutMs: 5_000 });
    } catch (error) {
      return `${(error as PodNetworkError).code}: ${(error as Error).message}`;
    }
    return 'answered';
  };
  return { network, view, events, get, fails };
}
