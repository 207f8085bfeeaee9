// Where a pods/proxy or services/proxy request goes, as the API server resolves it: `pods/NAME[:PORT]`
// (a number or a container port's name; absent: the first declared container port), and
// `services/[SCHEME:]NAME[:PORT]` (a Service port's number or name; absent: its only port) to a
// Ready endpoint's pod and target port. Only http is proxied.
import { BadRequestError, ServiceUnavailableError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import type { Endpoints, Service } from '../../resources/kinds/services.js';

export interface ProxyName {
  name: string;
  port?: string;
}

/** Splits `[scheme:]name[:port]`; throws BadRequestError for a scheme other than http or a bad port. */
export function parseProxyName(segment: string, allowScheme: boolean): ProxyName {
  const parts = segment.split(':');
  if (parts.length > (allowScheme ? 3 : 2)) throw new BadRequestError(`invalid proxy target ${JSON.stringify(segment)}`);
  if (allowScheme && parts.length === 3) {
    const scheme = parts.shift()!;
    if (scheme !== 'http' && scheme !== '') throw new BadRequestError(`only http is proxied, not ${JSON.stringify(scheme)}`);
  }
  const [name = '', port] = parts;
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new BadRequestError(`invalid name ${JSON.stringify(name)}`);
  const numeric = port !== undefined && /^\d+$/.test(port);
  const valid = numeric ? Number(port) >= 1 && Number(port) <= 65535 : /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(port ?? '');
  if (port !== undefined && port !== '' && !valid) throw new BadRequestError(`invalid port ${JSON.stringify(port)}`);
  return { name, ...(port !== undefined && port !== '' ? { port } : {}) };
}

/** A pod's port: a number, a named container port, or the first declared one. */
export function podProxyPort(pod: Pod, port: string | undefined): number {
  const declared = pod.spec.containers.flatMap((c) => c.ports ?? []);
  if (port === undefined) {
    const first = declared[0]?.containerPort;
    if (first === undefined) throw new BadRequestError(`pod ${pod.metadata.name} declares no container port: name one (pods/${pod.metadata.name}:PORT/proxy)`);
    return first;
  }
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    if (n < 1 || n > 65535) throw new BadRequestError(`invalid port ${port}: want 1-65535`);
    return n;
  }
  const named = declared.find((p) => p.name === port)?.containerPort;
  if (named === undefined) throw new BadRequestError(`pod ${pod.metadata.name} has no container port named ${JSON.stringify(port)}`);
  return named;
}

/** The pod and port behind a Service port: the first Ready address of its Endpoints. */
export function serviceProxyTarget(service: Service, endpoints: Endpoints | undefined, port: string | undefined): { pod: string; port: number } {
  const name = service.metadata.name;
  const ports = service.spec.ports ?? [];
  const servicePort = port === undefined
    ? (ports.length === 1 ? ports[0] : undefined)
    : ports.find((p) => p.name === port || String(p.port) === port);
  if (!servicePort) {
    throw new BadRequestError(port === undefined
      ? `service ${name} has ${ports.length} ports: name one (services/${name}:PORT/proxy)`
      : `service ${name} has no port ${JSON.stringify(port)}`);
  }
  for (const subset of endpoints?.subsets ?? []) {
    const target = (subset.ports ?? []).find((p) => (p.name ?? '') === (servicePort.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
    const address = (subset.addresses ?? []).find((a) => a.targetRef?.kind === 'Pod' && a.targetRef.name);
    if (target && address) return { pod: address.targetRef!.name!, port: target.port };
  }
  throw new ServiceUnavailableError(`no endpoints available for service "${name}"`);
}
