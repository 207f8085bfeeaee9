// Decision 061 end to end on Debian's mosquitto (a broker that outlives the control plane): a Node
// deleted while the control plane runs has its retained messages cleared; one deleted from the
// store while no control plane ran is cleared by the next one's start; other nodes keep theirs.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import { resourceTypes } from '../../control-plane/resources/resource-types.js';
import { startMosquitto, type MosquittoServer } from '../mqtt/mosquitto-server.js';
import { waitFor } from '../mqtt/wait-for.js';
import { aNode } from '../support/builders.js';
import { hasTool } from '../support/tools.js';

const CP_USER = 'skiff-cp';

describe.skipIf(!hasTool('mosquitto', 'deleted nodes on mosquitto'))('deleted nodes\' retained messages on mosquitto', () => {
  let dataDir: string | undefined;
  let mosquitto: MosquittoServer | undefined;
  let cp: RunningControlPlane | undefined;
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });
  afterAll(async () => {
    await cp?.stop();
    await mosquitto?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** What mosquitto retains per node, asked with the control plane's identity while no control plane runs (one session per user). */
  async function retainedWhileDown(): Promise<Set<string>> {
    const channel = new MqttNodeChannel({
      url: mosquitto!.url, username: CP_USER, password: (await readFile(join(dataDir!, 'cp', 'cp-mqtt-password'), 'utf8')).trim(), epoch: 'observer',
    });
    await channel.start({ presence() {}, nodeStatus() {}, podStatus() {}, lease() {}, event() {} });
    try {
      return await channel.retainedNodes();
    } finally {
      await channel.stop();
    }
  }

  const sentDesired = async (running: RunningControlPlane) =>
    Number(/skiff_mqtt_messages_sent_total\{kind="desired"\} (\d+)/.exec(await running.prometheus.registry.metrics())?.[1] ?? 0);

  it('clears a Node deleted while it runs, and at start one deleted while it was down', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-gone-e2e-'));
    mosquitto = await startMosquitto({ controlPlaneUsers: { [CP_USER]: 'placeholder-password' }, nodeUsers: {}, bootstrapUser: 'skiff-bootstrap' });
    const options: ControlPlaneOptions = {
      dataDir: join(dataDir, 'cp'), logger, apiPort: 0,
      mqtt: { url: mosquitto.url, username: CP_USER, mosquitto: { passwordFile: mosquitto.passwordFile, reload: () => mosquitto!.reload() } },
    };
    cp = await startControlPlane(options);
    for (const name of ['gone-now', 'gone-later', 'stays']) await cp.resources.create(resourceTypes.nodes, aNode(name));
    await waitFor('three desired states sent', async () => (await sentDesired(cp!)) >= 3, { timeoutMs: 10_000 });
    const sent = await sentDesired(cp);
    await cp.resources.delete(resourceTypes.nodes, undefined, 'gone-now');
    await waitFor('the deleted node cleared', async () => (await sentDesired(cp!)) > sent, { timeoutMs: 10_000 });
    await cp.stop();
    cp = undefined;
    expect([...await retainedWhileDown()].sort()).toEqual(['gone-later', 'stays']);

    // deleted while no control plane in front of mosquitto runs (one on the same store, its own embedded broker)
    cp = await startControlPlane({ ...options, mqtt: { host: '127.0.0.1', port: 0 } });
    await cp.resources.delete(resourceTypes.nodes, undefined, 'gone-later');
    await cp.stop();
    cp = await startControlPlane(options);
    // at start: the desired state of 'stays' and the empty one clearing 'gone-later'
    await waitFor('gone-later cleared at start', async () => (await sentDesired(cp!)) >= 2, { timeoutMs: 10_000 });
    await cp.stop();
    cp = undefined;
    expect([...await retainedWhileDown()].sort()).toEqual(['stays']);
  }, 60_000);
});
