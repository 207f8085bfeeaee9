// Validation of Service, Endpoints and EndpointSlice (core ValidateService, ValidateEndpoints, discovery ValidateEndpointSlice).
import { isIP } from 'node:net';
import type { StatusCause } from '../../api/errors.js';
import { duplicate, invalid, notSupported, required } from './field-causes.js';
import type { EndpointSlice, Endpoints, Service } from './kinds/services.js';
import { validateLabels } from './metadata-validation.js';
import { checkDns1123Label, checkDns1123Subdomain } from './name-validation.js';
import { nodePortRange } from './service-allocation.js';

const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const isPort = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
const portMessage = 'must be between 1 and 65535, inclusive';
const ianaName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validatePortName(field: string, name: string): StatusCause[] {
  return ianaName.test(name) && name.length <= 15 && /[a-z]/.test(name) && !name.includes('--')
    ? []
    : [invalid(field, name, 'must be no more than 15 characters, contain only lowercase alphanumeric characters or \'-\', and contain at least one letter (a-z)')];
}

export function validateService(svc: Service): StatusCause[] {
  const spec = svc.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes: StatusCause[] = [];
  const type = spec.type ?? 'ClusterIP';
  if (!types.includes(type)) causes.push(notSupported('spec.type', type, types));
  const ports = spec.ports ?? [];
  if (type === 'ExternalName') {
    if (!spec.externalName) causes.push(required('spec.externalName'));
    else for (const m of checkDns1123Subdomain(spec.externalName.replace(/\.$/, ''))) causes.push(invalid('spec.externalName', spec.externalName, m));
  } else if (ports.length === 0 && spec.clusterIP !== 'None') {
    causes.push(required('spec.ports'));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') { causes.push(required(f)); return; }
    if (ports.length > 1 && !p.name) causes.push(required(`${f}.name`));
    if (p.name) {
      if (names.has(p.name)) causes.push(duplicate(`${f}.name`, p.name));
      else causes.push(...checkDns1123Label(p.name).map((m) => invalid(`${f}.name`, p.name, m)));
      names.add(p.name);
    }
    if (!isPort(p.port)) causes.push(invalid(`${f}.port`, p.port, portMessage));
    if (p.protocol !== undefined && !protocols.includes(p.protocol)) causes.push(notSupported(`${f}.protocol`, p.protocol, protocols));
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seen.has(key)) causes.push(duplicate(f, { port: p.port, protocol: p.protocol ?? 'TCP' }));
    seen.add(key);
    if (typeof p.targetPort === 'number' && !isPort(p.targetPort)) causes.push(invalid(`${f}.targetPort`, p.targetPort, portMessage));
    if (typeof p.targetPort === 'string') causes.push(...validatePortName(`${f}.targetPort`, p.targetPort));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') causes.push({ field: `${f}.nodePort`, reason: 'FieldValueForbidden', message: 'Forbidden: may not be used when `type` is \'ClusterIP\'' });
      else if (!(p.nodePort >= nodePortRange.min && p.nodePort <= nodePortRange.max)) {
        causes.push(invalid(`${f}.nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${nodePortRange.min}-${nodePortRange.max}`));
      }
    }
  });
  const ip = spec.clusterIP;
  if (ip !== undefined && ip !== '' && ip !== 'None' && isIP(ip) !== 4) {
    causes.push(invalid('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }
  if (ip === 'None' && (type === 'NodePort' || type === 'LoadBalancer')) {
    causes.push(invalid('spec.clusterIPs[0]', 'None', 'may not be set to \'None\' for LoadBalancer services or NodePorts'));
  }
  causes.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinities = ['ClientIP', 'None'];
  if (spec.sessionAffinity !== undefined && !affinities.includes(spec.sessionAffinity)) causes.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, affinities));
  (spec.externalIPs ?? []).forEach((e, i) => {
    if (!isIP(e)) causes.push(invalid(`spec.externalIPs[${i}]`, e, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  return causes;
}

export function validateServiceUpdate(oldSvc: Service, newSvc: Service): StatusCause[] {
  const oldIp = oldSvc.spec?.clusterIP;
  const newIp = newSvc.spec?.clusterIP;
  // Moving to or from ExternalName releases/allocates; otherwise the allocated IP is fixed.
  if (oldIp && newIp !== oldIp && oldSvc.spec?.type !== 'ExternalName' && newSvc.spec?.type !== 'ExternalName') {
    return [invalid('spec.clusterIPs[0]', newIp ?? '', 'may not change once set')];
  }
  return [];
}

function validateEndpointPorts(ports: Array<{ name?: string; port?: number; protocol?: string }> | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  (ports ?? []).forEach((p, i) => {
    if (p.port !== undefined && !isPort(p.port)) causes.push(invalid(`${path}[${i}].port`, p.port, portMessage));
    if (p.protocol !== undefined && !protocols.includes(p.protocol)) causes.push(notSupported(`${path}[${i}].protocol`, p.protocol, protocols));
    if ((ports?.length ?? 0) > 1 && !p.name) causes.push(required(`${path}[${i}].name`));
  });
  return causes;
}

export function validateEndpoints(ep: Endpoints): StatusCause[] {
  const causes: StatusCause[] = [];
  (ep.subsets ?? []).forEach((s, i) => {
    const f = `subsets[${i}]`;
    if (!(s.addresses?.length) && !(s.notReadyAddresses?.length)) causes.push(required(f, 'must specify `addresses` or `notReadyAddresses`'));
    for (const kind of ['addresses', 'notReadyAddresses'] as const) {
      (s[kind] ?? []).forEach((a, j) => {
        if (!a?.ip) causes.push(required(`${f}.${kind}[${j}].ip`));
        else if (!isIP(a.ip)) causes.push(invalid(`${f}.${kind}[${j}].ip`, a.ip, 'must be a valid IP address'));
      });
    }
    causes.push(...validateEndpointPorts(s.ports, `${f}.ports`));
  });
  return causes;
}

export function validateEndpointSlice(slice: EndpointSlice): StatusCause[] {
  const causes: StatusCause[] = [];
  const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
  if (!slice.addressType) causes.push(required('addressType'));
  else if (!addressTypes.includes(slice.addressType)) causes.push(notSupported('addressType', slice.addressType, addressTypes));
  if (!Array.isArray(slice.endpoints)) causes.push(required('endpoints'));
  (slice.endpoints ?? []).forEach((e, i) => {
    const f = `endpoints[${i}].addresses`;
    if (!Array.isArray(e?.addresses) || e.addresses.length === 0) causes.push(required(f, 'must contain at least 1 address'));
    else if (e.addresses.length > 100) causes.push({ field: f, reason: 'FieldValueTooMany', message: 'Too many: must have at most 100 items' });
    else e.addresses.forEach((a, j) => {
      const wrong = slice.addressType === 'IPv4' ? isIP(a) !== 4 : slice.addressType === 'IPv6' ? isIP(a) !== 6 : checkDns1123Subdomain(a).length > 0;
      if (wrong) causes.push(invalid(`${f}[${j}]`, a, `must be a valid ${slice.addressType} address`));
    });
  });
  causes.push(...validateEndpointPorts(slice.ports, 'ports'));
  return causes;
}
