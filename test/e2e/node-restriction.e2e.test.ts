// NodeRestriction end to end: a real control plane with its embedded broker, and a hostile node that
// holds its own valid credential. Over MQTT it may report only on its own pods and Node; over HTTPS
// its credential fetches components and nothing else (no exec, no Secrets).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../api/mqtt/messages.js';
import { topics } from '../../api/mqtt/topics.js';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { resourceTypes } from '../../control-plane/resources/resource-types.js';
import { clientFor } from '../control-plane/support/https-client.js';
import { connectRaw, publishSettled } from '../mqtt/raw-mqtt-client.js';

/** Control-plane log lines, with a way to wait for one (the drop is logged once it is decided). */
function logCollector() {
  const lines: string[] = [];
  const waiters: Array<{ match: RegExp; resolve: () => void }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        for (const w of [...waiters]) if (w.match.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      }
      done();
    },
  });
  const waitFor = (match: RegExp, timeoutMs = 10_000) => (lines.some((l) => match.test(l)) ? Promise.resolve() : new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no log line matching ${match}`)), timeoutMs);
    waiters.push({ match, resolve: () => { clearTimeout(timer); resolve(); } });
  }));
  return { logger: pino({ level: 'warn' }, stream), waitFor };
}

describe('a hostile node with a valid credential', () => {
  let dir: string;
  let cp: RunningControlPlane;
  let mqtt: MqttClient;
  let credential: string;
  const logs = logCollector();
  const envelope = () => ({ v: PROTOCOL_VERSION, sessionId: 'evil', seq: 1, ts: Date.now(), node: 'node-2' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-noderestriction-'));
    cp = await startControlPlane({ dataDir: dir, logger: logs.logger, apiPort: 0, mqtt: { host: '127.0.0.1', port: 0 } });
    credential = await cp.nodeCredentials.issue('node-2');
    const pod = (name: string, nodeName: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } });
    await cp.resources.create(resourceTypes.pods, pod('victim', 'node-1'));
    await cp.resources.create(resourceTypes.pods, pod('own', 'node-2'));
    mqtt = await connectRaw({ url: cp.mqttUrl, username: 'node-2', password: credential });
  }, 60_000);
  afterAll(async () => {
    mqtt?.end(true);
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('cannot get Events about another node\'s pod stored', async () => {
    const victim = await cp.resources.get<Pod>(resourceTypes.pods, 'default', 'victim');
    const forged = { ...envelope(), involvedObject: { kind: 'Pod', name: 'victim', namespace: 'default', uid: victim.metadata.uid }, type: 'Warning', reason: 'Forged', message: 'node-1 is compromised' };
    expect(await publishSettled(mqtt, topics.events('node-2'), JSON.stringify(forged))).toBe('acked');
    await logs.waitFor(/dropped an event from a node about something it does not own/);
    const genuine = { ...envelope(), seq: 2, involvedObject: { kind: 'Pod', name: 'own', namespace: 'default' }, type: 'Normal', reason: 'Genuine', message: 'fine' };
    await publishSettled(mqtt, topics.events('node-2'), JSON.stringify(genuine));
    for (let deadline = Date.now() + 10_000; ;) {
      const reasons = (await cp.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items.map((e) => e.reason);
      if (reasons.includes('Genuine')) {
        expect(reasons).not.toContain('Forged');
        break;
      }
      if (Date.now() > deadline) throw new Error('the genuine event was never stored');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('cannot set another node\'s pod status', async () => {
    const victim = await cp.resources.get<Pod>(resourceTypes.pods, 'default', 'victim');
    const status = { ...envelope(), uid: victim.metadata.uid!, name: 'victim', namespace: 'default', status: { phase: 'Failed', reason: 'Forged' } };
    expect(await publishSettled(mqtt, topics.podStatus('node-2', victim.metadata.uid!), JSON.stringify(status))).toBe('acked');
    await logs.waitFor(/dropped a pod status from a node about something it does not own/);
    expect((await cp.resources.get<Pod>(resourceTypes.pods, 'default', 'victim')).status?.phase).toBe('Pending');
  });

  it('cannot use its credential on the API beyond fetching components', async () => {
    const client = clientFor(cp.apiUrl, cp.caCert, credential);
    try {
      expect((await client.call('GET', '/api/v1/namespaces/default/secrets')).status).toBe(403);
      expect((await client.call('GET', '/api/v1/namespaces/default/pods/victim')).status).toBe(403);
      expect((await client.call('POST', '/api/v1/namespaces/default/pods/victim/exec?command=env')).status).toBe(403);
      expect((await client.call('GET', `/registry/v1/blobs/sha256:${'0'.repeat(64)}`)).status).toBe(404);
    } finally {
      client.close();
    }
  });
});
