import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/main.js';
import type { Pod } from '../../api/types/pod.js';
import { KubeClient } from '../../cli/kube-client.js';
import { readKubeconfig } from '../../cli/kubeconfig-reader.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { startMosquitto, type MosquittoServer } from '../mqtt/mosquitto-server.js';
import { waitFor } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { localContainerId, sleeperPod } from '../agent/edge-fixture.js';

const PODS = '/api/v1/namespaces/default/pods';
const CP_USER = 'skiff-cp';

function brokerAccepts(url: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion: 4, clientId: username, username, password, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => { client.end(true); resolve(true); });
    client.once('error', () => { client.end(true); resolve(false); });
  });
}

describe.skipIf(!hasTool('mosquitto', 'agent on mosquitto'))('the agent against Debian\'s mosquitto', () => {
  let dataDir: string;
  let mosquitto: MosquittoServer;
  let cp: RunningControlPlane;
  let agent: Agent;
  let client: KubeClient;
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-mosq-e2e-'));
    // the control plane rewrites the password file with its real password before it connects
    mosquitto = await startMosquitto({ controlPlaneUsers: { [CP_USER]: 'placeholder-password' }, nodeUsers: {}, bootstrapUser: 'skiff-bootstrap' });
    cp = await startControlPlane({
      // the renewal after the restart is in the API within a second, not the default 20 s flush (decision 058)
      dataDir: join(dataDir, 'cp'), logger, apiPort: 0, nodeLeaseFlushIntervalMs: 1000,
      mqtt: { url: mosquitto.url, username: CP_USER, mosquitto: { passwordFile: mosquitto.passwordFile, reload: () => mosquitto.reload() } },
    });
    client = new KubeClient(await readKubeconfig(cp.kubeconfigPath));
    await cp.registry.push('examples/sleep:latest', await readFile('wasm-examples/sleep/sleep.wasm'));
    agent = await startAgent({
      server: mosquitto.url, insecureMqtt: true, token: cp.nodeToken, name: 'mosq-1', dataDir: join(dataDir, 'agent'), logger,
      warmWorkers: 0, keepaliveSeconds: 2, backoff: { initialMs: 100, maxMs: 1000 }, fuelPerSecond: 1e9,
    });
  }, 60_000);
  afterAll(async () => {
    await agent?.stop(1000);
    await cp?.stop();
    client?.close();
    await mosquitto?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('exchanges the bootstrap token for a credential mosquitto accepts only for that node', async () => {
    const credential = JSON.parse(await readFile(join(dataDir, 'agent', 'node-credential'), 'utf8')) as { credential: string };
    expect(await brokerAccepts(mosquitto.url, 'mosq-1', credential.credential)).toBe(true);
    expect(await brokerAccepts(mosquitto.url, 'mosq-2', credential.credential)).toBe(false);
    expect(await brokerAccepts(mosquitto.url, 'mosq-1', cp.nodeToken)).toBe(false);
  });

  it('runs a pod and keeps it running while mosquitto restarts, then reports again', async () => {
    expect((await client.request('POST', PODS, { ...sleeperPod('calm'), spec: { ...sleeperPod('calm').spec, nodeName: 'mosq-1' } })).status).toBe(201);
    const running = async () => (await client.request<Pod>('GET', `${PODS}/calm`)).body.status?.phase === 'Running';
    await waitFor('pod running', running, { timeoutMs: 30_000, intervalMs: 100 });
    const before = localContainerId(agent, 'calm');
    expect(before).toBeDefined();
    await mosquitto.restart();
    const restartedAt = Date.now();
    await waitFor('lease renewed after the restart', async () => {
      const lease = await client.request<{ spec: { renewTime: string } }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/mosq-1');
      return Date.parse(lease.body.spec.renewTime) > restartedAt;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(localContainerId(agent, 'calm')).toBe(before);
    expect(await running()).toBe(true);
  });
});
