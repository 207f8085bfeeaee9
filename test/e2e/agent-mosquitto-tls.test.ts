// Debian's mosquitto with a TLS listener (docs/mosquitto.md): its certificate is the control plane's
// (DATA_DIR/server.crt from the cluster CA), the control plane and an agent both connect over mqtts://
// verifying it with the cluster CA, the agent through a loopback relay that records every byte. A
// Secret mounted in a pod (and its env) reaches the agent, yet never appears in clear on that link.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/main.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { KubeClient } from '../../cli/kube-client.js';
import { readKubeconfig } from '../../cli/kubeconfig-reader.js';
import { ensureTls } from '../../control-plane/api/tls.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { hasTool } from '../support/tools.js';
import { startMosquitto, type MosquittoServer } from '../mqtt/mosquitto-server.js';
import { startTcpProxy, type TcpProxy } from '../mqtt/tcp-proxy.js';
import { waitFor } from './cluster-harness.js';

const CP_USER = 'skiff-cp';
const SECRET = 'tls-only-Secret-value-7f3a9c';
const PODS = '/api/v1/namespaces/default/pods';

describe.skipIf(!hasTool('mosquitto', 'mosquitto TLS e2e'))('an agent joining mosquitto over mqtts://', () => {
  let dir: string;
  let mosquitto: MosquittoServer;
  let relay: TcpProxy;
  let cp: RunningControlPlane;
  let agent: Agent;
  let client: KubeClient;
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-mosq-tls-'));
    const cpDir = join(dir, 'cp');
    await ensureTls(cpDir, { hosts: [] }); // the control plane's CA and certificate, made before mosquitto needs them
    mosquitto = await startMosquitto({
      controlPlaneUsers: { [CP_USER]: 'placeholder' }, nodeUsers: {}, bootstrapUser: 'skiff-bootstrap',
      tls: { caFile: join(cpDir, 'ca.crt'), certFile: join(cpDir, 'server.crt'), keyFile: join(cpDir, 'server.key') },
    });
    relay = await startTcpProxy(mosquitto.port);
    cp = await startControlPlane({
      dataDir: cpDir, logger, apiPort: 0,
      mqtt: { url: mosquitto.url, username: CP_USER, mosquitto: { passwordFile: mosquitto.passwordFile, reload: () => mosquitto.reload() } },
    });
    client = new KubeClient(await readKubeconfig(cp.kubeconfigPath));
    await cp.registry.push('examples/sleep:latest', await readFile('wasm-examples/sleep/sleep.wasm'));
    agent = await startAgent({
      server: `mqtts://127.0.0.1:${relay.port}`, mqttCa: cp.caCert, token: cp.nodeToken, name: 'mosq-tls-1', dataDir: join(dir, 'agent'), logger,
      warmWorkers: 0, keepaliveSeconds: 2, backoff: { initialMs: 100, maxMs: 1000 }, fuelPerSecond: 1e9,
    });
  }, 90_000);
  afterAll(async () => {
    await agent?.stop(1000);
    await cp?.stop();
    client?.close();
    await relay?.close();
    await mosquitto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the cluster CA\'s certificate, and both sides verify it', async () => {
    expect(mosquitto.url).toMatch(/^mqtts:\/\//);
    expect(cp.mqttUrl).toBe(mosquitto.url);
    expect(await readFile(join(dir, 'cp', 'ca.crt'), 'utf8')).toBe(cp.caCert);
    const ready = await waitFor<Node>(client, '/api/v1/nodes', (e) => e.object.metadata.name === 'mosq-tls-1'
      && e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 30_000);
    expect(ready.metadata.name).toBe('mosq-tls-1');
  }, 60_000);

  it('delivers a pod\'s Secret to the agent with no Secret byte in clear on the link', async () => {
    expect((await client.request('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wire' }, data: { value: Buffer.from(SECRET).toString('base64') },
    })).status).toBe(201);
    expect((await client.request('POST', PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'holder' },
      spec: {
        automountServiceAccountToken: false,
        volumes: [{ name: 's', secret: { secretName: 'wire' } }],
        containers: [{ name: 'main', image: 'examples/sleep:latest', args: ['60'], volumeMounts: [{ name: 's', mountPath: '/s' }],
          env: [{ name: 'V', valueFrom: { secretKeyRef: { name: 'wire', key: 'value' } } }] }],
      },
    })).status).toBe(201);
    await waitFor<Pod>(client, `${PODS}?fieldSelector=metadata.name%3Dholder`, (e) => e.object.status?.phase === 'Running', 60_000);
    // Running: the agent got the Secret (its env and volume), or the pod would wait in CreateContainerConfigError
    const wire = relay.recorded();
    expect(wire.length).toBeGreaterThan(1000); // desired state, status, leases went through it
    expect(wire[0]).toBe(0x16); // a TLS handshake record, not an MQTT CONNECT (0x10)
    for (const clear of [SECRET, Buffer.from(SECRET).toString('base64'), 'fleet/v1/nodes', 'mosq-tls-1']) {
      expect(wire.includes(Buffer.from(clear)), clear).toBe(false);
    }
  }, 90_000);
});
