import { describe, expect, it } from 'vitest';
import { planEndpoints } from '../../../control-plane/controllers/endpoints/endpoints-plan.js';
import type { Service } from '../../../control-plane/controllers/workload-kinds.js';
import { aManagedPod } from './workload-builders.js';

const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
const withIP = (name: string, ip: string, ready: boolean) => {
  const p = aManagedPod(name, { node: 'n1', ready });
  p.status!.podIP = ip;
  p.spec.containers[0]!.ports = [{ name: 'http', containerPort: 8080 }];
  return p;
};

describe('planEndpoints', () => {
  it('lists ready pods as addresses and the others as notReadyAddresses, with named target ports resolved', () => {
    const plan = planEndpoints(svc, [withIP('a', '10.42.1.2', true), withIP('b', '10.42.1.3', false), aManagedPod('no-ip', { node: 'n1', ready: true })]);
    expect(plan.subsets).toHaveLength(1);
    expect(plan.subsets[0]!.addresses?.map((a) => a.ip)).toEqual(['10.42.1.2']);
    expect(plan.subsets[0]!.notReadyAddresses?.map((a) => a.ip)).toEqual(['10.42.1.3']);
    expect(plan.subsets[0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(plan.sliceEndpoints.map((e) => [e.addresses[0], e.conditions?.ready])).toEqual([['10.42.1.2', true], ['10.42.1.3', false]]);
  });
});
