// Pod spec validation with field paths and wording like the real API server (ValidatePodCreate).
import type { StatusCause } from '../../api/errors.js';
import type { Container, Pod } from '../../api/types/pod.js';
import { duplicate, invalid, notFound, notSupported, required } from './field-causes.js';
import { checkDns1123Label } from './name-validation.js';
import { validateLabels } from './metadata-validation.js';
import { quantityValue as parseQuantity, QUANTITY_ERROR_MESSAGE as quantityErrorMessage } from '../../api/quantity.js';

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const protocols = ['SCTP', 'TCP', 'UDP'];

export function validatePod(pod: Pod): StatusCause[] {
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes: StatusCause[] = [];
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const f = `spec.volumes[${i}].name`;
    if (!v?.name) causes.push(required(f));
    else if (volumeNames.has(v.name)) causes.push(duplicate(f, v.name));
    else {
      for (const m of checkDns1123Label(v.name)) causes.push(invalid(f, v.name, m));
      volumeNames.add(v.name);
    }
    const sizeLimit = (v?.emptyDir as { sizeLimit?: unknown } | undefined)?.sizeLimit;
    if (sizeLimit !== undefined) {
      const q = typeof sizeLimit === 'string' ? parseQuantity(sizeLimit) : typeof sizeLimit === 'number' ? sizeLimit : undefined;
      if (q === undefined) causes.push(invalid(`spec.volumes[${i}].emptyDir.sizeLimit`, sizeLimit, quantityErrorMessage));
      else if (q < 0) causes.push(invalid(`spec.volumes[${i}].emptyDir.sizeLimit`, sizeLimit, 'must be greater than or equal to 0'));
    }
  });
  const containerNames = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) causes.push(required('spec.containers'));
  else spec.containers.forEach((c, i) => causes.push(...validateContainer(c, `spec.containers[${i}]`, containerNames, volumeNames)));
  (spec.initContainers ?? []).forEach((c, i) =>
    causes.push(...validateContainer(c, `spec.initContainers[${i}]`, containerNames, volumeNames)));
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy)) {
    causes.push(notSupported('spec.restartPolicy', spec.restartPolicy, restartPolicies));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    causes.push(invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0'));
  }
  causes.push(...validateLabels(spec.nodeSelector, 'spec.nodeSelector'));
  return causes;
}

function validateContainer(c: Container, path: string, names: Set<string>, volumes: Set<string>): StatusCause[] {
  if (!c || typeof c !== 'object') return [required(path)];
  const causes: StatusCause[] = [];
  if (!c.name) causes.push(required(`${path}.name`));
  else if (names.has(c.name)) causes.push(duplicate(`${path}.name`, c.name));
  else {
    for (const m of checkDns1123Label(c.name)) causes.push(invalid(`${path}.name`, c.name, m));
    names.add(c.name);
  }
  if (!c.image || typeof c.image !== 'string' || c.image.trim() === '') causes.push(required(`${path}.image`));
  if (c.imagePullPolicy !== undefined && !pullPolicies.includes(c.imagePullPolicy)) {
    causes.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, pullPolicies));
  }
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const f = `${path}.ports[${i}]`;
    if (p.containerPort === undefined) causes.push(required(`${f}.containerPort`));
    else if (!isPort(p.containerPort)) causes.push(invalid(`${f}.containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    if (p.hostPort !== undefined && p.hostPort !== 0 && !isPort(p.hostPort)) {
      causes.push(invalid(`${f}.hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'));
    }
    if (p.protocol !== undefined && !protocols.includes(p.protocol)) causes.push(notSupported(`${f}.protocol`, p.protocol, protocols));
    if (p.name !== undefined) {
      if (portNames.has(p.name)) causes.push(duplicate(`${f}.name`, p.name));
      else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name)) {
        causes.push(invalid(`${f}.name`, p.name, 'must be no more than 15 characters, contain only lowercase alphanumeric characters or \'-\', and contain at least one letter (a-z)'));
      }
      portNames.add(p.name);
    }
  });
  (c.env ?? []).forEach((e, i) => {
    if (!e?.name) causes.push(required(`${path}.env[${i}].name`));
  });
  (c.volumeMounts ?? []).forEach((m, i) => {
    if (!m?.name) causes.push(required(`${path}.volumeMounts[${i}].name`));
    else if (!volumes.has(m.name)) causes.push(notFound(`${path}.volumeMounts[${i}].name`, m.name));
    if (!m?.mountPath) causes.push(required(`${path}.volumeMounts[${i}].mountPath`));
  });
  causes.push(...validateResources(c, path));
  return causes;
}

function validateResources(c: Container, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, value] of Object.entries(c.resources?.[kind] ?? {})) {
      const field = `${path}.resources.${kind}[${name}]`;
      const q = typeof value === 'string' ? parseQuantity(value) : typeof value === 'number' ? value : undefined;
      if (q === undefined) causes.push(invalid(field, value, quantityErrorMessage));
      else if (q < 0) causes.push(invalid(field, value, 'must be greater than or equal to 0'));
      else parsed[kind][name] = q;
    }
  }
  for (const [name, request] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[name];
    if (limit !== undefined && request > limit) {
      causes.push(invalid(`${path}.resources.requests`, c.resources?.requests?.[name], `must be less than or equal to ${name} limit of ${c.resources?.limits?.[name]}`));
    }
  }
  return causes;
}

const isPort = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
