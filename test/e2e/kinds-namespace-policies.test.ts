// ResourceQuota and LimitRange with the real kubectl on a real agent: `kubectl create quota`
// (a protobuf body), usage in status as `kubectl get/describe quota` show it, a pod beyond the quota
// refused with the real server's 403 text, and LimitRange defaults on pods that then run with them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import type { ResourceQuota } from '../../control-plane/resources/kinds/policy.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'namespace policies e2e'))('ResourceQuota and LimitRange with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => cluster.kubectl(args, input);
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, input);
  const pod = (name: string, memory?: string) => JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'policy' } },
    spec: { containers: [{ name: 'main', image: 'examples/sleep:latest', ...(memory ? { resources: { requests: { memory }, limits: { memory } } } : {}) }] },
  });

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, examples: ['sleep'] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('defaults pod limits from a LimitRange, then refuses pods beyond the quota with 403', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' },
      spec: { limits: [{ type: 'Container', default: { memory: '48Mi' }, defaultRequest: { memory: '16Mi' }, max: { memory: '64Mi' } }] },
    }));
    expect(await ok(['get', 'limits'])).toMatch(/^NAME\s+CREATED AT\ndefaults\s+\d{4}-\d\d-\d\dT/);
    await ok(['apply', '-f', '-'], pod('defaulted'));
    const defaulted = await waitFor<Pod>(cluster.client, `${NS}/pods?fieldSelector=metadata.name%3Ddefaulted`, (e) => e.object.status?.phase === 'Running', 60_000);
    expect(defaulted.spec.containers[0]!.resources).toEqual({ limits: { memory: '48Mi' }, requests: { memory: '16Mi' } });
    const tooBig = await kubectl(['apply', '-f', '-'], pod('too-big', '128Mi'));
    expect(tooBig.code).not.toBe(0);
    expect(tooBig.stderr).toContain('pods "too-big" is forbidden: [maximum memory usage per Container is 64Mi, but limit is 128Mi]');

    expect(await ok(['create', 'quota', 'small', '--hard=pods=2,requests.memory=40Mi'])).toContain('resourcequota/small created');
    const counted = await waitFor<ResourceQuota>(cluster.client, `${NS}/resourcequotas?fieldSelector=metadata.name%3Dsmall`, (e) => e.object.status?.used?.['pods'] === '1', 30_000);
    expect(counted.status).toEqual({ hard: { pods: '2', 'requests.memory': '40Mi' }, used: { pods: '1', 'requests.memory': '16Mi' } });
    expect(await ok(['get', 'quota', 'small'])).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\nsmall\s+\S+\s+pods: 1\/2, requests.memory: 16Mi\/40Mi\s*\n/);
    expect(await ok(['describe', 'quota', 'small'])).toMatch(/requests\.memory\s+16Mi\s+40Mi/);

    await ok(['apply', '-f', '-'], pod('second'));
    const third = await kubectl(['apply', '-f', '-'], pod('third'));
    expect(third.code).not.toBe(0);
    expect(third.stderr).toContain('Error from server (Forbidden)');
    expect(third.stderr).toContain('pods "third" is forbidden: exceeded quota: small, requested: pods=1,requests.memory=16Mi, used: pods=2,requests.memory=32Mi, limited: pods=2,requests.memory=40Mi');
    await waitFor<ResourceQuota>(cluster.client, `${NS}/resourcequotas?fieldSelector=metadata.name%3Dsmall`, (e) => e.object.status?.used?.['pods'] === '2', 30_000);
    await ok(['delete', 'pod', 'second', '--wait=true']);
    await waitFor<ResourceQuota>(cluster.client, `${NS}/resourcequotas?fieldSelector=metadata.name%3Dsmall`, (e) => e.object.status?.used?.['pods'] === '1', 30_000);
    await ok(['apply', '-f', '-'], pod('third'));
  }, 180_000);
});
