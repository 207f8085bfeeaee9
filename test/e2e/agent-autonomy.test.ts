import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../api/types/pod.js';
import { waitFor } from '../mqtt/wait-for.js';
import { localContainerId, NODE, PODS, readyStatus, sleeperPod, startEdgeFixture, type EdgeFixture } from '../agent/edge-fixture.js';

const running = (pod: Pod | undefined) => pod?.status?.phase === 'Running' && pod.status.containerStatuses?.[0]?.state.running !== undefined;
const apiContainerId = (pod: Pod | undefined) => (pod?.status?.containerStatuses?.[0] as { containerID?: string } | undefined)?.containerID;

/** Does the broker accept `username`/`password` for a node session? */
function brokerAccepts(url: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion: 4, clientId: username, username, password, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => { client.end(true); resolve(true); });
    client.once('error', () => { client.end(true); resolve(false); });
  });
}

const LEASE = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`;

describe('an edge agent keeps its pods running without its control plane', () => {
  let f: EdgeFixture;
  beforeAll(async () => {
    f = await startEdgeFixture();
    for (const name of ['steady', 'doomed']) expect((await f.client.request('POST', PODS, sleeperPod(name))).status).toBe(201);
    await waitFor('pods running', async () => running(await f.getPod('steady')) && running(await f.getPod('doomed')), { timeoutMs: 20_000, intervalMs: 50 });
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });
  const leaseRenewedMs = async () => Date.parse((await f.client.request<{ spec: { renewTime: string } }>('GET', LEASE)).body.spec.renewTime);

  it('joins with its own credential: the bootstrap token no longer opens its name', async () => {
    expect(existsSync(join(f.dataDir, 'agent', 'node-credential'))).toBe(true);
    expect(f.cp.nodeCredentials.has(NODE)).toBe(true);
    expect(await brokerAccepts(f.cp.mqttUrl, NODE, f.cp.nodeToken)).toBe(false);
    expect(await brokerAccepts(f.cp.mqttUrl, 'other-node', f.cp.nodeToken)).toBe(false);
  });

  it('keeps running the same instances while the broker restarts, then reports again', async () => {
    const before = localContainerId(f.agent, 'steady');
    await f.cp.restartBroker!();
    const restartedAt = Date.now();
    await waitFor('node renews again', async () => (await leaseRenewedMs()) > restartedAt, { timeoutMs: 20_000, intervalMs: 100 });
    expect(localContainerId(f.agent, 'steady')).toBe(before);
    expect(apiContainerId(await f.getPod('steady'))).toBe(before);
  });

  it('survives a link down for longer than the lease: NotReady meanwhile, Ready and converged after', async () => {
    const before = localContainerId(f.agent, 'steady');
    f.proxy.freeze();
    await waitFor('node not ready', async () => readyStatus(await f.getNode()) === 'Unknown', { timeoutMs: 20_000, intervalMs: 100 });
    const lease = await f.client.request<{ spec: { leaseDurationSeconds: number } }>('GET', LEASE);
    await waitFor('lease expired', async () => Date.now() - (await leaseRenewedMs()) > lease.body.spec.leaseDurationSeconds * 1000, { timeoutMs: 20_000, intervalMs: 200 });
    // deleted while the node cannot hear it: the pod waits, Terminating, for the node to stop it
    expect((await f.client.request('DELETE', `${PODS}/doomed`)).status).toBe(200);
    expect(localContainerId(f.agent, 'steady')).toBe(before);
    expect(localContainerId(f.agent, 'doomed')).toBeDefined();
    f.proxy.thaw();
    await waitFor('node ready again', async () => readyStatus(await f.getNode()) === 'True', { timeoutMs: 20_000, intervalMs: 100 });
    await waitFor('doomed removed', async () => (await f.getPod('doomed')) === undefined, { timeoutMs: 20_000, intervalMs: 100 });
    await waitFor('doomed stopped on the node', () => f.agent.pods.podCount === 1, { timeoutMs: 20_000 });
    expect(localContainerId(f.agent, 'steady')).toBe(before);
  });

  it('runs its persisted pods when restarted offline, through a control-plane restart, with none resurrected', async () => {
    expect((await f.client.request('POST', PODS, sleeperPod('ghost'))).status).toBe(201);
    await waitFor('ghost running', async () => running(await f.getPod('ghost')), { timeoutMs: 20_000, intervalMs: 50 });
    f.proxy.freeze();
    await waitFor('node not ready', async () => readyStatus(await f.getNode()) === 'Unknown', { timeoutMs: 20_000, intervalMs: 100 });
    expect((await f.client.request('DELETE', `${PODS}/ghost`)).status).toBe(200);

    await f.restartAgent(); // no broker reachable: it must start from its data dir
    await waitFor('persisted pods running', () => localContainerId(f.agent, 'steady') && localContainerId(f.agent, 'ghost'), { timeoutMs: 20_000 });
    expect(f.agent.pods.podCount).toBe(2);

    await f.stopCp();
    await f.startCp(); // same data dir, same ports; a new embedded broker without retained state
    f.proxy.thaw();
    await waitFor('ghost deleted for good', async () => (await f.getPod('ghost')) === undefined, { timeoutMs: 30_000, intervalMs: 100 });
    await waitFor('steady converged', async () => {
      const pod = await f.getPod('steady');
      return running(pod) && apiContainerId(pod) === localContainerId(f.agent, 'steady');
    }, { timeoutMs: 20_000, intervalMs: 100 });
    await waitFor('node ready', async () => readyStatus(await f.getNode()) === 'True', { timeoutMs: 20_000, intervalMs: 100 });
    await waitFor('ghost stopped on the node', () => f.agent.pods.podCount === 1, { timeoutMs: 20_000 });
    expect(f.agent.pods.findPod('default', 'ghost')).toBeUndefined();
  });
});
