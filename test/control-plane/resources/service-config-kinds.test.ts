import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../api/errors.js';
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1 } from '../../../control-plane/resources/kinds/autoscaling.js';
import type { ConfigMap, Secret } from '../../../control-plane/resources/kinds/config.js';
import type { NetworkPolicy, Service } from '../../../control-plane/resources/kinds/services.js';
import { horizontalPodAutoscalersV1, resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aService } from '../support/sample-objects.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const { services, secrets, configmaps, horizontalpodautoscalers, networkpolicies, ingresses, persistentvolumeclaims } = resourceTypes;
let t: TestResources;
beforeEach(async () => { t = await openTestResources(); });
afterEach(async () => { await t.close(); });

const causesOf = async (p: Promise<unknown>) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).causes.map((c) => `${c.field}: ${c.message}`);
};

describe('Service', () => {
  it('defaults like the real server and allocates a cluster IP from 10.43.0.0/16', async () => {
    const svc = await t.resources.create<Service>(services, aService('web', { ports: [{ port: 80 }] }));
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' });
    expect(svc.spec.ports?.[0]).toEqual({ port: 80, targetPort: 80, protocol: 'TCP' });
    expect(svc.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
    expect(svc.spec.clusterIPs).toEqual([svc.spec.clusterIP]);
  });

  it('refuses an IP that is taken or outside the range, and frees it on delete', async () => {
    await t.resources.create(services, aService('a', { clusterIP: '10.43.0.10' }));
    expect(await causesOf(t.resources.create(services, aService('b', { clusterIP: '10.43.0.10' }))))
      .toEqual(['spec.clusterIPs: Invalid value: ["10.43.0.10"]: failed to allocate IP 10.43.0.10: provided IP is already allocated']);
    expect((await causesOf(t.resources.create(services, aService('c', { clusterIP: '10.1.0.1' }))))[0]).toMatch(/not in the valid range/);
    await t.resources.delete(services, 'default', 'a');
    const b = await t.resources.create<Service>(services, aService('b', { clusterIP: '10.43.0.10' }));
    expect(b.spec.clusterIP).toBe('10.43.0.10');
  });

  it('allocates node ports, keeps them and the IP on an update that omits them, and rejects a changed IP', async () => {
    const svc = await t.resources.create<Service>(services, aService('np', { type: 'NodePort' }));
    const nodePort = svc.spec.ports?.[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    expect(svc.spec.externalTrafficPolicy).toBe('Cluster');
    const body = structuredClone(svc);
    delete body.spec.clusterIP;
    delete body.spec.clusterIPs;
    delete body.spec.ports![0]!.nodePort;
    const updated = await t.resources.update<Service>(services, body);
    expect(updated.spec.clusterIP).toBe(svc.spec.clusterIP);
    expect(updated.spec.ports?.[0]?.nodePort).toBe(nodePort);
    expect(await causesOf(t.resources.update(services, { ...updated, spec: { ...updated.spec, clusterIP: '10.43.9.9', clusterIPs: ['10.43.9.9'] } })))
      .toEqual(['spec.clusterIPs[0]: Invalid value: "10.43.9.9": may not change once set']);
    expect(await causesOf(t.resources.create(services, aService('np2', { type: 'NodePort', ports: [{ port: 81, nodePort }] }))))
      .toEqual([`spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`]);
  });

  it('gives headless and ExternalName services no cluster IP', async () => {
    const headless = await t.resources.create<Service>(services, aService('h', { clusterIP: 'None' }));
    expect(headless.spec.clusterIPs).toEqual(['None']);
    const ext = await t.resources.create<Service>(services, { ...aService('e', { type: 'ExternalName', externalName: 'db.example.com' }) });
    expect(ext.spec.clusterIP).toBeUndefined();
  });

  it('requires port names when there are several ports', async () => {
    expect(await causesOf(t.resources.create(services, aService('two', { ports: [{ port: 80 }, { port: 443 }] }))))
      .toEqual(['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  });
});

describe('Secret and ConfigMap', () => {
  it('merges stringData into base64 data and defaults the type', async () => {
    const s = await t.resources.create<Secret>(secrets, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { a: 'YQ==' }, stringData: { b: 'hello' },
    });
    expect(s.type).toBe('Opaque');
    expect(s.data).toEqual({ a: 'YQ==', b: 'aGVsbG8=' });
    expect(s.stringData).toBeUndefined();
  });

  it('checks keys, base64 values, required keys of typed secrets and type immutability', async () => {
    const base = { apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: { name: 'tls', namespace: 'default' } };
    expect(await causesOf(t.resources.create(secrets, { ...base, type: 'kubernetes.io/tls', data: { 'bad key': 'x!' } })))
      .toEqual([
        `data: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        'data[bad key]: Invalid value: "<value omitted>": must be base64 encoded',
        'data[tls.crt]: Required value', 'data[tls.key]: Required value',
      ]);
    const s = await t.resources.create<Secret>(secrets, { ...base, data: {} });
    expect(await causesOf(t.resources.update(secrets, { ...s, type: 'kubernetes.io/basic-auth', data: { username: 'dQ==' } })))
      .toEqual(['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
  });

  it('freezes the data of an immutable ConfigMap', async () => {
    const cm = await t.resources.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' }, immutable: true });
    expect(await causesOf(t.resources.update(configmaps, { ...cm, data: { a: '2' } })))
      .toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });
});

describe('autoscaling, networking and storage kinds', () => {
  it('stores HPAs as autoscaling/v2 and serves them as v1 too', async () => {
    const v1: HorizontalPodAutoscalerV1 = {
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
    };
    const created = await t.resources.create<HorizontalPodAutoscalerV1>(horizontalPodAutoscalersV1, v1);
    expect(created).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, targetCPUUtilizationPercentage: 60 } });
    const v2 = await t.resources.get<HorizontalPodAutoscaler>(horizontalpodautoscalers, 'default', 'web');
    expect(v2.apiVersion).toBe('autoscaling/v2');
    expect(v2.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    const list = await t.resources.list(horizontalPodAutoscalersV1, { namespace: 'default' });
    expect(list.items[0]?.apiVersion).toBe('autoscaling/v1');
  });

  it('defaults an empty HPA metric list to 80% CPU and checks max >= min', async () => {
    const hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 2 } } as HorizontalPodAutoscaler;
    expect(await causesOf(t.resources.create(horizontalpodautoscalers, hpa))).toEqual(['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
    const ok = await t.resources.create<HorizontalPodAutoscaler>(horizontalpodautoscalers, { ...hpa, spec: { ...hpa.spec, maxReplicas: 4 } });
    expect(ok.spec.metrics?.[0]?.resource?.target.averageUtilization).toBe(80);
  });

  it('defaults NetworkPolicy policyTypes from its rules', async () => {
    const np = await t.resources.create<NetworkPolicy>(networkpolicies, {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' },
      spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] },
    });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress?.[0]?.ports?.[0]?.protocol).toBe('TCP');
  });

  it('refuses NetworkPolicy ports and ipBlocks that cannot match, with field causes', async () => {
    const np = (ports: unknown[], except?: string[]) => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'bad', namespace: 'default' },
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', ...(except ? { except } : {}) } }], ports }] },
    }) as never;
    expect(await causesOf(t.resources.create(networkpolicies, np([{ port: 0 }, { port: 'HTTP' }, { port: 80, endPort: 79 }, { port: 'web', endPort: 90 }, { endPort: 90 }])))).toEqual([
      'spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      "spec.ingress[0].ports[1].port: Invalid value: \"HTTP\": must be no more than 15 characters, contain only lowercase alphanumeric characters and '-' (not twice in a row, not at either end), and at least one letter",
      'spec.ingress[0].ports[2].endPort: Invalid value: 79: must be greater than or equal to `port`',
      'spec.ingress[0].ports[3].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
      'spec.ingress[0].ports[4].endPort: Invalid value: 90: may not be specified when `port` is not specified',
    ]);
    expect(await causesOf(t.resources.create(networkpolicies, np([{ port: 80 }], ['11.0.0.0/16', '10.0.0.0/8', 'x'])))).toEqual([
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[2]: Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    await t.resources.create(networkpolicies, np([{ port: 'http' }, { port: 8000, endPort: 8080 }], ['10.1.0.0/16']));
  });

  it('requires an Ingress path type and a claim size', async () => {
    const ing = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' },
      spec: { rules: [{ host: 'web.local', http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } };
    expect(await causesOf(t.resources.create(ingresses, ing as never))).toEqual(['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']);
    const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'] } };
    expect(await causesOf(t.resources.create(persistentvolumeclaims, pvc as never))).toEqual(['spec.resources[storage]: Required value']);
  });
});
