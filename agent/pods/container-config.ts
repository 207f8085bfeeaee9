// Turns a pod's container spec into what the runtime needs: argv, environment, limits.
import { parseBytes, parseMillicores } from '../../api/quantity.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { ContainerLimits } from '../../runtime/pod-runtime.js';
import type { ConfigLookup } from './config-lookup.js';

/** The container's configuration cannot be honoured (Kubernetes: CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export const FUEL_LIMIT_ANNOTATION = 'skiff.dev/fuel-limit';
/** `fresh` or `reuse`: how an HTTP handler's instances serve requests (decision 053). */
export const HANDLER_INSTANCES_ANNOTATION = 'skiff.dev/handler-instances';

/** The pod's choice of handler instances; undefined leaves it to the runtime (reuse where the component can). */
export function handlerInstances(pod: Pod): 'fresh' | 'reuse' | undefined {
  const value = pod.metadata.annotations?.[HANDLER_INSTANCES_ANNOTATION];
  if (value === undefined) return undefined;
  if (value === 'fresh' || value === 'reuse') return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
  throw new ContainerConfigError(`annotation ${HANDLER_INSTANCES_ANNOTATION} must be "fresh" or "reuse", got ${shown}`);
}

/**
 * argv: `command` replaces the entrypoint (argv[0] defaults to the container name), `args` follow;
 * $(VAR) references to the container's environment are expanded (`$$` escapes), as in Kubernetes.
 */
export function containerArgv(container: Container, env: ReadonlyArray<[string, string]> = []): string[] {
  const vars = new Map(env);
  const [first, ...rest] = (container.command ?? []).map((a) => expand(a, vars));
  return [first ?? container.name, ...rest, ...(container.args ?? []).map((a) => expand(a, vars))];
}

export interface PodFacts {
  nodeName: string;
  podIP?: string;
  hostIP?: string;
  /** ConfigMaps and Secrets of the node's desired state. */
  config?: ConfigLookup;
  /** The Services' variables (`WEB_SVC_SERVICE_HOST`...), set first: the container's own env wins and may use them in $(VAR). */
  services?: Array<[string, string]>;
}

const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Environment from `envFrom` (ConfigMaps/Secrets, with prefix; keys that are not identifiers are
 * skipped), then `env` (value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef), which
 * wins; $(VAR) references expanded. A missing non-optional source is a ContainerConfigError.
 */
export function containerEnv(pod: Pod, container: Container, facts: PodFacts): Array<[string, string]> {
  const env = new Map<string, string>(facts.services ?? []);
  const namespace = pod.metadata.namespace ?? 'default';
  for (const from of (container['envFrom'] as Array<Record<string, unknown>> | undefined) ?? []) {
    const prefix = typeof from['prefix'] === 'string' ? from['prefix'] : '';
    const ref = (from['configMapRef'] ?? from['secretRef']) as { name?: string; optional?: boolean } | undefined;
    if (!ref?.name) continue;
    const isSecret = from['secretRef'] !== undefined;
    const data = isSecret ? facts.config?.secret(namespace, ref.name) : facts.config?.configMap(namespace, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${isSecret ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    for (const [key, value] of data) {
      if (C_IDENTIFIER.test(prefix + key)) env.set(prefix + key, value.toString('utf8'));
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom === undefined) {
      env.set(variable.name, expand(variable.value ?? '', env));
      continue;
    }
    const value = valueFrom(pod, container, facts, variable.name, variable.valueFrom);
    if (value !== OPTIONAL_ABSENT) env.set(variable.name, value);
  }
  return [...env];
}

/** An optional key that is absent: the variable is not set at all (as in Kubernetes). */
const OPTIONAL_ABSENT = '\u0000absent';

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
  for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const ref = source[kind] as { name?: string; key?: string; optional?: boolean } | undefined;
    if (!ref) continue;
    const namespace = pod.metadata.namespace ?? 'default';
    const what = kind === 'secretKeyRef' ? 'secret' : 'configmap';
    const data = ref.name ? (kind === 'secretKeyRef' ? facts.config?.secret(namespace, ref.name) : facts.config?.configMap(namespace, ref.name)) : undefined;
    const value = ref.key ? data?.get(ref.key) : undefined;
    if (value !== undefined) return value.toString('utf8');
    if (ref.optional) return OPTIONAL_ABSENT;
    throw new ContainerConfigError(data
      ? `couldn't find key ${ref.key} in ${what} ${namespace}/${ref.name}`
      : `${what} "${ref.name}" not found`);
  }
  const kinds = Object.keys(source).join(', ');
  throw new ContainerConfigError(`env ${name}: valueFrom ${kinds} is not available on this node yet`);
}

/** What a node applies to containers that set no limit of their own. */
export interface ContainerDefaults {
  /** The agent's --default-memory-limit: a container without resources.limits.memory gets it. */
  memoryLimitBytes?: number;
}

/**
 * Runtime limits from `resources.limits` and the pod's fuel annotation; a cpu request turns
 * metering on (metrics, HPA). A container without a memory limit gets the node's default, so no
 * guest can take the device's memory. (A LimitRange's defaults, once that kind exists, are written
 * into the container's spec by the API server at admission, as Kubernetes does, and so win over
 * the node's default here.)
 */
export function containerLimits(pod: Pod, container: Container, defaults: ContainerDefaults = {}): ContainerLimits {
  const limits: ContainerLimits = {};
  const memory = container.resources?.limits?.['memory'];
  const cpu = container.resources?.limits?.['cpu'];
  if (memory) limits.memoryBytes = parseBytes(memory);
  else if (defaults.memoryLimitBytes !== undefined) limits.memoryBytes = defaults.memoryLimitBytes;
  if (cpu) limits.cpuMillis = parseMillicores(cpu);
  if (container.resources?.requests?.['cpu']) limits.measureCpu = true;
  const fuel = pod.metadata.annotations?.[FUEL_LIMIT_ANNOTATION];
  if (fuel) {
    if (!/^\d+$/.test(fuel)) throw new ContainerConfigError(`annotation ${FUEL_LIMIT_ANNOTATION} must be a whole number, got "${fuel}"`);
    limits.fuel = BigInt(fuel);
  }
  return limits;
}
