// Debian's python3-kubernetes against the HTTPS API server (skipped with one line when the module is missing).
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

const python = '/usr/bin/python3';
const hasModule = (() => {
  try {
    execFileSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('skipping python client e2e: /usr/bin/python3 cannot import kubernetes (apt-get install python3-kubernetes)');
    return false;
  }
})();

const script = `
import json, sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
core, apps, batch = client.CoreV1Api(), client.AppsV1Api(), client.BatchV1Api()
out = {}
out["namespaces"] = sorted(n.metadata.name for n in core.list_namespace().items)
core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"k": "v"}))
out["configmap"] = core.read_namespaced_config_map("py-cm", "default").data
dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="py-web"),
    spec=client.V1DeploymentSpec(
        replicas=1,
        selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="registry.local/web:1.0")]))))
created = apps.create_namespaced_deployment("default", dep)
out["strategy"] = created.spec.strategy.rolling_update.max_surge
apps.patch_namespaced_deployment_scale("py-web", "default", {"spec": {"replicas": 3}})
out["scale"] = apps.read_namespaced_deployment_scale("py-web", "default").spec.replicas
job = client.V1Job(metadata=client.V1ObjectMeta(name="py-job"), spec=client.V1JobSpec(template=client.V1PodTemplateSpec(
    spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(name="main", image="registry.local/job:1.0")]))))
out["backoffLimit"] = batch.create_namespaced_job("default", job).spec.backoff_limit
try:
    apps.read_namespaced_deployment("nope", "default")
except client.exceptions.ApiException as e:
    out["notFound"] = e.status
print(json.dumps(out))
`;

describe.skipIf(!hasModule)('python3-kubernetes client', () => {
  let c: KubectlCluster;
  beforeAll(async () => { c = await startKubectlCluster(); });
  afterAll(async () => { await c?.close(); });

  it('lists, creates, scales and reads objects of core, apps and batch', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(python, ['-c', script, c.kubeconfigPath], { timeout: 30_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
    });
    expect(JSON.parse(stdout)).toEqual({
      namespaces: ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
      configmap: { k: 'v' }, strategy: '25%', scale: 3, backoffLimit: 6, notFound: 404,
    });
  });
});
