// Turns a pod's container spec into what the runtime needs: argv, environment, limits.
import { parseBytes, parseMillicores } from '../../api/quantity.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { ContainerLimits } from '../../runtime/pod-runtime.js';

/** The container's configuration cannot be honoured (Kubernetes: CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export const FUEL_LIMIT_ANNOTATION = 'skiff.dev/fuel-limit';

/** argv: `command` replaces the entrypoint (argv[0] defaults to the container name), `args` follow. */
export function containerArgv(container: Container): string[] {
  const [first, ...rest] = container.command ?? [];
  return [first ?? container.name, ...rest, ...(container.args ?? [])];
}

export interface PodFacts {
  nodeName: string;
  podIP?: string;
  hostIP?: string;
}

/** Environment from `env` (value and fieldRef/resourceFieldRef); $(VAR) references expanded. */
export function containerEnv(pod: Pod, container: Container, facts: PodFacts): Array<[string, string]> {
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    if (variable.valueFrom === undefined) {
      env.set(variable.name, expand(variable.value ?? '', env));
      continue;
    }
    env.set(variable.name, valueFrom(pod, container, facts, variable.name, variable.valueFrom));
  }
  return [...env];
}

const expand = (value: string, env: Map<string, string>): string =>
  value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? '$' : env.get(name) ?? whole);

function valueFrom(pod: Pod, container: Container, facts: PodFacts, name: string, source: Record<string, unknown>): string {
  const fieldRef = source['fieldRef'] as { fieldPath?: string } | undefined;
  if (fieldRef?.fieldPath) {
    const path = fieldRef.fieldPath;
    const meta = pod.metadata;
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
    if (label) return meta.labels?.[label[1]!] ?? '';
    if (annotation) return meta.annotations?.[annotation[1]!] ?? '';
    const fields: Record<string, string | undefined> = {
      'metadata.name': meta.name,
      'metadata.namespace': meta.namespace,
      'metadata.uid': meta.uid,
      'spec.nodeName': facts.nodeName,
      'spec.serviceAccountName': pod.spec['serviceAccountName'] as string | undefined,
      'status.podIP': facts.podIP,
      'status.podIPs': facts.podIP,
      'status.hostIP': facts.hostIP,
    };
    if (path in fields) return fields[path] ?? '';
    throw new ContainerConfigError(`env ${name}: unsupported fieldRef ${path}`);
  }
  const resourceRef = source['resourceFieldRef'] as { resource?: string; divisor?: string } | undefined;
  if (resourceRef?.resource) {
    const [kind, resource] = resourceRef.resource.split('.') as [string, string];
    const value = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[resource] ?? '0';
    const divisor = resourceRef.divisor ?? (resource === 'cpu' ? '1' : '1');
    const amount = resource === 'cpu'
      ? Math.ceil(parseMillicores(value) / parseMillicores(divisor))
      : Math.ceil(parseBytes(value) / parseBytes(divisor));
    return String(amount);
  }
  const kinds = Object.keys(source).join(', ');
  throw new ContainerConfigError(`env ${name}: valueFrom ${kinds} is not available on this node yet`);
}

/** Runtime limits from `resources.limits` and the pod's fuel annotation. */
export function containerLimits(pod: Pod, container: Container): ContainerLimits {
  const limits: ContainerLimits = {};
  const memory = container.resources?.limits?.['memory'];
  const cpu = container.resources?.limits?.['cpu'];
  if (memory) limits.memoryBytes = parseBytes(memory);
  if (cpu) limits.cpuMillis = parseMillicores(cpu);
  const fuel = pod.metadata.annotations?.[FUEL_LIMIT_ANNOTATION];
  if (fuel) {
    if (!/^\d+$/.test(fuel)) throw new ContainerConfigError(`annotation ${FUEL_LIMIT_ANNOTATION} must be a whole number, got "${fuel}"`);
    limits.fuel = BigInt(fuel);
  }
  return limits;
}
