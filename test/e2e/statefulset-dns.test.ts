// StatefulSet stable network identity with the real kubectl, control plane and agent: a headless
// Service `web` and a StatefulSet of 2 http-health pods; the nslookup example resolves
// web-0.web and web-1.web.default.svc.cluster.local to those pods' IPs, and the http-fetch example
// reaches web-0.web:8080 (that pod, by name).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { freePort } from './http-answers.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'StatefulSet DNS e2e'))('StatefulSet pod DNS with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => cluster.kubectlOk(args, input);

  beforeAll(async () => {
    cluster = await startCluster({ examples: ['http-health', 'nslookup', 'http-fetch'] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('resolves and reaches web-0.web', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] } };
    const sts = {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
      spec: {
        replicas: 2, serviceName: 'web', selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'web', image: 'examples/http-health:latest', ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, timeoutSeconds: 10 },
            }],
          },
        },
      },
    };
    expect(await kubectl(['apply', '-f', '-'], JSON.stringify(service))).toContain('service/web created');
    expect(await kubectl(['apply', '-f', '-'], JSON.stringify(sts))).toContain('statefulset.apps/web created');
    expect(await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=180s'])).toContain('roll out complete');
    const ips = new Map((await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Dweb`)).body.items
      .map((p) => [p.metadata.name!, p.status?.podIP ?? '']));
    expect(ips.get('web-0')).toMatch(/^10\./);
    expect(ips.get('web-1')).toMatch(/^10\./);
    // the Endpoints carry the hostnames (what CoreDNS would read)
    expect((await kubectl(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[*].addresses[*].hostname}'])).split(' ').sort()).toEqual(['web-0', 'web-1']);

    const lookup = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nslookup' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'nslookup', image: 'examples/nslookup:latest', args: ['web-0.web', 'web-1.web.default.svc.cluster.local', 'web-0.web.default', 'web-9.web'] }] },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(lookup));
    await poll('nslookup finished', async () => /Succeeded|Failed/.test(await kubectl(['get', 'pod', 'nslookup', '-o', 'jsonpath={.status.phase}'])), { timeoutMs: 120_000, intervalMs: 300 });
    const logs = await kubectl(['logs', 'nslookup']);
    expect(logs).toContain(`web-0.web: ${ips.get('web-0')}`);
    expect(logs).toContain(`web-1.web.default.svc.cluster.local: ${ips.get('web-1')}`);
    expect(logs).toContain(`web-0.web.default: ${ips.get('web-0')}`);
    expect(logs).toContain('web-9.web: name-unresolvable');

    const port = await freePort();
    const fetcher = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fetcher' },
      spec: { containers: [{ name: 'fetcher', image: 'examples/http-fetch:latest', env: [{ name: 'TARGET_URL', value: 'http://web-0.web:8080/healthz' }], ports: [{ containerPort: 8081, hostPort: port }] }] },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(fetcher));
    let last = 'nothing';
    const body = await poll('fetcher answers', async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        last = `${response.status} ${await response.text()}`;
        return response.status === 200 ? last : undefined;
      } catch (error) {
        last = String(error);
        return undefined;
      }
    }, { timeoutMs: 180_000, intervalMs: 300 }).catch((error: Error) => {
      throw new Error(`${error.message}; last answer: ${last}`);
    });
    expect(body).toMatch(/^200 fetched http:\/\/web-0\.web:8080\/healthz: 200 /);
  }, 600_000);
});
