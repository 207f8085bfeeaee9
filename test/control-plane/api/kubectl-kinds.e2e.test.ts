// Acceptance: the real kubectl drives every kind through apply/get/describe/label/annotate/scale/delete/create,
// on both stores (SQLite file and etcd).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool, TOOL_PATHS } from '../../support/tools.js';
import { startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';
import { appManifest, appManifestObjects } from '../support/sample-manifests.js';

const haveKubectl = hasTool('kubectl', 'kubectl kinds e2e');
const stores = [{ store: 'sqlite', needsEtcd: false }, { store: 'etcd', needsEtcd: true }]
  .filter((s) => !s.needsEtcd || hasTool('etcd', 'kubectl kinds e2e on etcd'));

describe.skipIf(!haveKubectl).each(stores)('kubectl with every kind on $store', ({ needsEtcd }) => {
  let etcd: EtcdServer | undefined;
  let c: KubectlCluster;
  const kubectl = (...args: string[]) => c.kubectl(args);
  const out = (...args: string[]) => c.kubectlOk(args);

  beforeAll(async () => {
    if (needsEtcd) etcd = await startEtcdServer();
    c = await startKubectlCluster(etcd ? `etcd://${new URL(etcd.endpoint).host}` : 'sqlite');
  }, 60_000);
  afterAll(async () => {
    await c?.close();
    await etcd?.stop();
  });

  it('applies a multi-document manifest: created, then unchanged, then configured', async () => {
    const created = (await c.kubectl(['apply', '-f', '-'], appManifest())).stdout.trim().split('\n');
    expect(created).toEqual(appManifestObjects.map((o) => `${o} created`));
    const again = (await c.kubectl(['apply', '-f', '-'], appManifest())).stdout.trim().split('\n');
    // As on a real cluster, kubectl re-patches what cannot read back equal: stringData (write-only) and atomic
    // lists the server defaulted (Endpoints subsets, EndpointSlice ports gain protocol: TCP).
    const repatched = new Set(['secret/web-secret', 'endpoints/external-db', 'endpointslice.discovery.k8s.io/external-db-1']);
    expect(again).toEqual(appManifestObjects.map((o) => `${o} ${repatched.has(o) ? 'configured' : 'unchanged'}`));
    const changed = (await c.kubectl(['apply', '-f', '-'], appManifest('registry.local/web:2.0', 3))).stdout;
    expect(changed).toContain('deployment.apps/web configured');
    expect(changed).toContain('service/web unchanged');
    const d = JSON.parse(await out('get', 'deploy', 'web', '-o', 'json'));
    expect(d.spec).toMatchObject({ replicas: 3, revisionHistoryLimit: 10, strategy: { rollingUpdate: { maxSurge: '25%' } } });
    expect(d.spec.template.spec.containers[0].image).toBe('registry.local/web:2.0');
    expect(d.metadata.generation).toBe(2);
  });

  it('prints each kind with its kubectl columns', async () => {
    expect(await out('get', 'deploy')).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/3\s+0\s+0\s+\d+s/);
    expect(await out('get', 'deploy', '-o', 'wide')).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR\n.*main\s+registry.local\/web:2.0\s+app=web/);
    expect(await out('get', 'svc', 'web')).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nweb\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP/);
    expect(await out('get', 'cm', 'web-config')).toMatch(/web-config\s+2\s+/);
    expect(await out('get', 'secret', 'web-secret')).toMatch(/web-secret\s+Opaque\s+1\s+/);
    expect(await out('get', 'job', 'migrate')).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nmigrate\s+Running\s+0\/1/);
    expect(await out('get', 'ds')).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagentd\s+0\s+0\s+0\s+0\s+0\s+skiff.dev\/edge=true/);
    expect(await out('get', 'hpa')).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nweb\s+Deployment\/web\s+cpu: <unknown>\/80%\s+1\s+5\s+0/);
    expect(await out('get', 'ing')).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+skiff\s+web.edge.local\s+80/);
    expect(await out('get', 'netpol')).toMatch(/web-only\s+app=web/);
    expect(await out('get', 'ep', 'external-db')).toMatch(/external-db\s+10.0.0.5:5432/);
    expect(await out('get', 'endpointslices')).toMatch(/external-db-1\s+IPv4\s+5432\s+10.0.0.5/);
    expect(await out('get', 'pv')).toMatch(/data-pv\s+1Gi\s+RWO\s+Retain\s+Pending/);
    expect(await out('get', 'pvc')).toMatch(/data\s+Pending/);
    expect(await out('get', 'sc')).toMatch(/^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nfast\s+rancher.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/);
    expect(await out('get', 'sa', 'web')).toMatch(/web\s+0\s+/);
    expect(await out('get', 'ingressclass')).toMatch(/skiff\s+skiff.dev\/ingress\s+<none>/);
    expect(await out('get', 'all', '-o', 'name')).toContain('deployment.apps/web');
  });

  it('gets with -o yaml|json|name, -l, -A, --show-labels and --field-selector', async () => {
    expect(await out('get', 'secret', 'web-secret', '-o', 'yaml')).toContain(`token: ${Buffer.from('s3cr3t').toString('base64')}`);
    expect(JSON.parse(await out('get', 'cm', 'web-config', '-o', 'json')).data).toEqual({ LOG_LEVEL: 'info', MODE: 'edge' });
    expect((await out('get', 'deploy,svc,cm', '-l', 'app=web', '-o', 'name')).trim().split('\n')).toEqual(['deployment.apps/web', 'service/web', 'configmap/web-config']);
    expect(await out('get', 'deploy', '-A')).toMatch(/^NAMESPACE\s+NAME\s+READY.*\ndefault\s+web\s+/);
    expect(await out('get', 'deploy', 'web', '--show-labels')).toMatch(/app=web,tier=front/);
    expect((await out('get', 'secrets', '--field-selector', 'type=Opaque', '-o', 'name')).trim()).toBe('secret/web-secret');
    expect((await out('get', 'svc', '--field-selector', 'metadata.name!=web', '-o', 'name')).trim()).toBe('');
  });

  it('describes, labels, annotates and scales through the scale subresource', async () => {
    expect(await out('describe', 'deploy', 'web')).toMatch(/Replicas:\s+3 desired/);
    expect(await out('describe', 'svc', 'web')).toMatch(/IP:\s+10\.43\./);
    expect(await out('describe', 'secret', 'web-secret')).toMatch(/token:\s+6 bytes/);
    expect((await out('label', 'cm', 'web-config', 'env=edge')).trim()).toBe('configmap/web-config labeled');
    expect((await out('annotate', 'deploy', 'web', 'owner=team-a')).trim()).toBe('deployment.apps/web annotated');
    expect((await out('scale', 'deploy', 'web', '--replicas=5')).trim()).toBe('deployment.apps/web scaled');
    expect(await out('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.annotations.owner}')).toBe('5 team-a');
  });

  it('creates namespace, configmap, secret, deployment and job (protobuf bodies)', async () => {
    expect((await out('create', 'namespace', 'edge')).trim()).toBe('namespace/edge created');
    expect((await out('-n', 'edge', 'create', 'configmap', 'cfg', '--from-literal=a=1')).trim()).toBe('configmap/cfg created');
    expect((await out('-n', 'edge', 'create', 'secret', 'generic', 'pw', '--from-literal=pw=x')).trim()).toBe('secret/pw created');
    expect((await out('-n', 'edge', 'create', 'deployment', 'api', '--image=registry.local/api:1.0', '--replicas=2')).trim()).toBe('deployment.apps/api created');
    expect((await out('-n', 'edge', 'create', 'job', 'once', '--image=registry.local/once:1.0')).trim()).toBe('job.batch/once created');
    const job = JSON.parse(await out('-n', 'edge', 'get', 'job', 'once', '-o', 'json'));
    expect(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(job.metadata.uid);
    expect(await out('-n', 'edge', 'get', 'deploy', 'api', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  });

  it('watches with get -w', async () => {
    const child = spawn(TOOL_PATHS.kubectl, ['get', 'cm', '-w', '--output-watch-events'], { env: { PATH: process.env['PATH'], HOME: c.dir, KUBECONFIG: c.kubeconfigPath } });
    let text = '';
    const seen = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (/ADDED\s+watched-cm/.test(text)) resolve();
    }));
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await out('create', 'configmap', 'watched-cm', '--from-literal=k=v');
      await seen;
    } finally {
      child.kill();
    }
    expect(text).toMatch(/ADDED\s+watched-cm\s+1/);
  });

  it('reports NotFound, AlreadyExists and Invalid like a real cluster', async () => {
    expect((await kubectl('get', 'deploy', 'nope')).stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nope" not found');
    expect((await kubectl('create', 'configmap', 'web-config')).stderr.trim()).toBe('error: failed to create configmap: configmaps "web-config" already exists');
    expect((await kubectl('create', 'namespace', 'default')).stderr.trim()).toBe('Error from server (AlreadyExists): namespaces "default" already exists');
    const bad = await c.kubectl(['apply', '-f', '-'], appManifest().split('---')[0]!.replace('app: web}}\n  template', 'app: other}}\n  template').replace('name: web\n', 'name: bad\n'));
    expect(bad.stderr).toContain('The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`');
    const svc = await c.kubectl(['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=1']);
    expect(svc.stderr.trim()).toBe('error: failed to create NodePort service: Service "np" is invalid: spec.ports[0].nodePort: Invalid value: 1: provided port is not in the valid range. The range of valid ports is 30000-32767');
  });

  it('lists api-resources of every group', async () => {
    const text = await out('api-resources');
    for (const re of [/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/, /services\s+svc\s+v1\s+true\s+Service/, /jobs\s+batch\/v1\s+true\s+Job/,
      /horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/, /ingresses\s+ing\s+networking.k8s.io\/v1\s+true\s+Ingress/,
      /endpointslices\s+discovery.k8s.io\/v1\s+true\s+EndpointSlice/, /persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume/,
      /storageclasses\s+sc\s+storage.k8s.io\/v1\s+false\s+StorageClass/]) {
      expect(text).toMatch(re);
    }
  });

  it('deletes objects of each kind', async () => {
    expect((await out('delete', 'deploy', 'web')).trim()).toBe('deployment.apps "web" deleted');
    expect((await out('delete', 'svc,cm,secret', '-l', 'app=web')).trim().split('\n')).toEqual(
      ['service "web" deleted', 'configmap "web-config" deleted', 'secret "web-secret" deleted']);
    expect((await kubectl('get', 'svc', 'web')).stderr).toContain('NotFound');
  });
});
