// The `kubernetes` Service of `default`, as the real API server keeps it: a ClusterIP Service
// (port 443, named https) whose Endpoints (written here, no selector) are the API server's address
// and port, so pods reach the API at https://kubernetes.default.svc (and KUBERNETES_SERVICE_HOST).
// Written at every start: the address or port may have changed (tests listen on port 0).
import { isIP } from 'node:net';
import { AlreadyExistsError, NotFoundError } from '../../api/errors.js';
import type { Endpoints, Service } from './kinds/services.js';
import type { ResourceStore } from './resource-store.js';
import { resourceTypes } from './resource-types.js';

export async function ensureKubernetesService(resources: ResourceStore, api: { host: string; port: number }): Promise<void> {
  const ip = isIP(api.host) && api.host !== '0.0.0.0' && api.host !== '::' ? api.host : '127.0.0.1';
  const ports = [{ name: 'https', port: 443, protocol: 'TCP' as const, targetPort: api.port }];
  const service: Service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', ports, sessionAffinity: 'None' },
  };
  try {
    await resources.create<Service>(resourceTypes.services, service);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    await resources.mutate<Service>(resourceTypes.services, 'default', 'kubernetes', (s) => (
      s.spec.ports?.[0]?.targetPort === api.port && s.spec.ports.length === 1 ? s : { ...s, spec: { ...s.spec, ports } }));
  }
  const subsets = [{ addresses: [{ ip }], ports: [{ name: 'https', port: api.port, protocol: 'TCP' as const }] }];
  const endpoints: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default' }, subsets };
  const current = await resources.get<Endpoints>(resourceTypes.endpoints, 'default', 'kubernetes').catch((error: Error) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (!current) await resources.create<Endpoints>(resourceTypes.endpoints, endpoints);
  else if (JSON.stringify(current.subsets) !== JSON.stringify(subsets)) {
    await resources.mutate<Endpoints>(resourceTypes.endpoints, 'default', 'kubernetes', (e) => ({ ...e, subsets }));
  }
}
