// Validation of Ingress, IngressClass and NetworkPolicy (networking/v1 ValidateXxx).
import { isIP } from 'node:net';
import type { StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { invalid, notSupported, required } from './field-causes.js';
import { cidrContains, parseCidr } from '../../api/cidr.js';
import type { Ingress, IngressBackend, IngressClass, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './kinds/services.js';
import { checkDns1123Subdomain } from './name-validation.js';
import { validateLabelSelector } from './selector-object.js';

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const protocols = ['SCTP', 'TCP', 'UDP'];

function validateBackend(b: IngressBackend | undefined, field: string): StatusCause[] {
  if (!b || typeof b !== 'object') return [required(field)];
  if (b.service && b.resource) return [invalid(field, '', 'cannot set both resource and service backends')];
  if (b.resource) return b.resource.kind && b.resource.name ? [] : [required(`${field}.resource`)];
  if (!b.service) return [required(field, 'one of `service` or `resource` must be specified')];
  const causes: StatusCause[] = [];
  if (!b.service.name) causes.push(required(`${field}.service.name`));
  const port = b.service.port;
  if (!port || (port.name === undefined && port.number === undefined)) causes.push(required(`${field}.service.port`));
  else if (port.name !== undefined && port.number !== undefined) causes.push(invalid(`${field}.service.port`, port, 'cannot set both port name & port number'));
  else if (port.number !== undefined && !(Number.isInteger(port.number) && port.number >= 1 && port.number <= 65535)) {
    causes.push(invalid(`${field}.service.port.number`, port.number, 'must be between 1 and 65535, inclusive'));
  }
  return causes;
}

export function validateIngress(ing: Ingress): StatusCause[] {
  const spec = ing.spec ?? {};
  const causes: StatusCause[] = [];
  if (!spec.defaultBackend && !(spec.rules?.length)) causes.push(invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) causes.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  (spec.rules ?? []).forEach((rule, i) => {
    const f = `spec.rules[${i}]`;
    if (rule.host) {
      if (isIP(rule.host)) causes.push(invalid(`${f}.host`, rule.host, 'must be a DNS name, not an IP address'));
      else for (const m of checkDns1123Subdomain(rule.host.replace(/^\*\./, ''))) causes.push(invalid(`${f}.host`, rule.host, m));
    }
    if (!rule.http) return;
    if (!(rule.http.paths?.length)) causes.push(required(`${f}.http.paths`));
    (rule.http.paths ?? []).forEach((p, j) => {
      const pf = `${f}.http.paths[${j}]`;
      if (!p.pathType) causes.push(required(`${pf}.pathType`, 'pathType must be specified'));
      else if (!pathTypes.includes(p.pathType)) causes.push(notSupported(`${pf}.pathType`, p.pathType, pathTypes));
      if ((p.pathType === 'Exact' || p.pathType === 'Prefix') && !(p.path ?? '').startsWith('/')) {
        causes.push(invalid(`${pf}.path`, p.path ?? '', "must be an absolute path"));
      }
      causes.push(...validateBackend(p.backend, `${pf}.backend`));
    });
  });
  (spec.tls ?? []).forEach((t, i) => (t.hosts ?? []).forEach((h, j) => {
    for (const m of checkDns1123Subdomain(h.replace(/^\*\./, ''))) causes.push(invalid(`spec.tls[${i}].hosts[${j}]`, h, m));
  }));
  return causes;
}

export function validateIngressClass(ic: IngressClass): StatusCause[] {
  const controller = ic.spec?.controller;
  if (!controller) return [required('spec.controller')];
  return controller.length > 250 ? [{ field: 'spec.controller', reason: 'FieldValueTooLong', message: 'Too long: must have at most 250 bytes' }] : [];
}

export function validateIngressClassUpdate(oldIc: KubeObject, newIc: KubeObject): StatusCause[] {
  const o = (oldIc as IngressClass).spec?.controller;
  const n = (newIc as IngressClass).spec?.controller;
  return o === n ? [] : [invalid('spec.controller', n, 'field is immutable')];
}

function validatePeers(peers: NetworkPolicyPeer[] | undefined, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  (peers ?? []).forEach((peer, i) => {
    const f = `${field}[${i}]`;
    if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) causes.push(required(f, 'must specify a peer'));
    if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) causes.push({ field: f, reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 peer type' });
    causes.push(...validateLabelSelector(peer.podSelector, `${f}.podSelector`), ...validateLabelSelector(peer.namespaceSelector, `${f}.namespaceSelector`));
    if (peer.ipBlock) {
      const cidr = typeof peer.ipBlock.cidr === 'string' ? parseCidr(peer.ipBlock.cidr) : undefined;
      if (!cidr) causes.push(invalid(`${f}.ipBlock.cidr`, peer.ipBlock.cidr ?? '', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
      const except = peer.ipBlock.except;
      if (except !== undefined && !Array.isArray(except)) causes.push(invalid(`${f}.ipBlock.except`, except, 'must be a list of CIDRs'));
      (Array.isArray(except) ? except : []).forEach((text, k) => {
        const block = typeof text === 'string' ? parseCidr(text) : undefined;
        if (!block) causes.push(invalid(`${f}.ipBlock.except[${k}]`, text, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
        else if (cidr && !(block.family === cidr.family && block.prefix > cidr.prefix && cidrContains(cidr, block))) {
          causes.push(invalid(`${f}.ipBlock.except[${k}]`, text, 'must be a strict subset of `cidr`'));
        }
      });
    }
  });
  return causes;
}

const PORT_NAME = /^(?=.{1,15}$)(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** spec.{ingress,egress}[i].ports[j]: a port number or IANA service name, and endPort as Kubernetes checks them. */
function validatePolicyPort(p: NetworkPolicyPort, field: string): StatusCause[] {
  if (!p || typeof p !== 'object') return [invalid(field, p, 'must be an object')];
  const causes: StatusCause[] = [];
  if (p.protocol !== undefined && !protocols.includes(p.protocol)) causes.push(notSupported(`${field}.protocol`, p.protocol, protocols));
  if (typeof p.port === 'number') {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) causes.push(invalid(`${field}.port`, p.port, 'must be between 1 and 65535, inclusive'));
  } else if (typeof p.port === 'string') {
    if (!PORT_NAME.test(p.port) || !/[a-z]/.test(p.port)) {
      causes.push(invalid(`${field}.port`, p.port, 'must be no more than 15 characters, contain only lowercase alphanumeric characters and \'-\' (not twice in a row, not at either end), and at least one letter'));
    }
  } else if (p.port !== undefined && p.port !== null) causes.push(invalid(`${field}.port`, p.port, 'must be a port number or name'));
  if (p.endPort !== undefined && p.endPort !== null) {
    if (p.port === undefined || p.port === null) causes.push(invalid(`${field}.endPort`, p.endPort, 'may not be specified when `port` is not specified'));
    else if (typeof p.port === 'string') causes.push(invalid(`${field}.endPort`, p.endPort, 'may not be specified when `port` is non-numeric'));
    else if (!Number.isInteger(p.endPort) || p.endPort < p.port || p.endPort > 65535) causes.push(invalid(`${field}.endPort`, p.endPort, 'must be greater than or equal to `port`'));
  }
  return causes;
}

export function validateNetworkPolicy(np: NetworkPolicy): StatusCause[] {
  const spec = np.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  for (const [kind, peersField] of [['ingress', 'from'], ['egress', 'to']] as const) {
    (spec[kind] ?? []).forEach((rule, i) => {
      const peers = (rule as Record<string, unknown>)[peersField] as NetworkPolicyPeer[] | undefined;
      causes.push(...validatePeers(peers, `spec.${kind}[${i}].${peersField}`));
      (Array.isArray(rule?.ports) ? rule.ports : []).forEach((p, j) => causes.push(...validatePolicyPort(p, `spec.${kind}[${i}].ports[${j}]`)));
    });
  }
  const policyTypes = ['Egress', 'Ingress'];
  (spec.policyTypes ?? []).forEach((t, i) => {
    if (!policyTypes.includes(t)) causes.push(notSupported(`spec.policyTypes[${i}]`, t, policyTypes));
  });
  return causes;
}
