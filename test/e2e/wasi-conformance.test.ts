// The WASI conformance guests through a pod (real control plane, broker and agent): args and env
// from the container spec, a scratch emptyDir and a read-only configMap volume as the preopens,
// no stdin. Every check passes and the pod Succeeds.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { CONFORMANCE_ARGS, CONFORMANCE_POD_ENV, failedChecks, RO_FILE } from '../runtime/support/conformance-guests.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const GUESTS = [
  { name: 'conformance-c', image: 'tests/conformance-c:latest', file: 'test/guests/c/wasi-conformance.wasm' },
  { name: 'conformance-c-component', image: 'tests/conformance-c-component:latest', file: 'test/guests/c/wasi-conformance.component.wasm' },
  { name: 'conformance-rust', image: 'tests/conformance-rust:latest', file: 'test/guests/rust/wasi-conformance.wasm' },
  { name: 'conformance-as', image: 'tests/conformance-as:latest', file: 'test/guests/as/wasi-conformance.wasm' },
];

describe('WASI conformance guests in pods', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
    for (const guest of GUESTS) await cluster.cp.registry.push(guest.image, readFileSync(guest.file));
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conformance-ro' }, data: { [RO_FILE.name]: RO_FILE.content } };
    expect((await cluster.client.request('POST', `${NS}/configmaps`, configMap)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('passes every check of the C, C component, Rust and AssemblyScript guests, and the pods Succeed', async () => {
    for (const guest of GUESTS) {
      const pod = {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: guest.name },
        spec: {
          restartPolicy: 'Never',
          volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'ro', configMap: { name: 'conformance-ro' } }],
          containers: [{
            name: 'wasi-conformance', image: guest.image, args: CONFORMANCE_ARGS,
            env: CONFORMANCE_POD_ENV.map(([name, value]) => ({ name, value })),
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'ro', mountPath: '/ro' }],
          }],
        },
      };
      expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
    }
    for (const guest of GUESTS) {
      const done = await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3D${guest.name}`,
        (e) => e.object.status?.phase === 'Succeeded' || e.object.status?.phase === 'Failed', 60_000);
      const log = (await cluster.client.request<string>('GET', `${PODS}/${guest.name}/log`)).text;
      expect({ guest: guest.name, failed: failedChecks(log) }).toEqual({ guest: guest.name, failed: [] });
      expect(log).toContain('stderr works\n');
      expect(done.status?.phase).toBe('Succeeded');
      expect(done.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    }
  });
});
