// The credential exchange's retry key (decision 067) is spent once the node connects with the
// credential it got: the agent keeps the key in its data dir only until the credential is stored
// (a key left by an interrupted start is reused), and the control plane drops the key's hash when the
// node's presence arrives over its own session. A repeat of the exchange afterwards, even with the
// right key, is 409 like any other claim of the name; before this, it rotated the live node's
// credential.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRetryKey } from '../../api/mqtt/node-credential.js';
import { exchangeBootstrapToken } from '../../agent/credentials/credential-exchange.js';
import { credentialPath, retryKeyPath } from '../../agent/credentials/node-credential.js';
import type { Agent } from '../../agent/agent.js';
import type { RunningControlPlane } from '../../control-plane/control-plane.js';
import { startTlsControlPlane, startTestAgent, untilNodeReady, type TlsControlPlane } from './tls-join.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the credential retry key once the node has connected', () => {
  let cluster: TlsControlPlane;
  let dir: string;
  let cp: RunningControlPlane;
  let agent: Agent | undefined;

  beforeAll(async () => {
    cluster = await startTlsControlPlane('skiff-retry-key-');
    ({ dir, cp } = cluster);
  }, 60_000);
  afterAll(async () => {
    await agent?.stop(1000);
    await cluster?.stop();
  });

  it('the agent reuses a kept key, removes it once stored, and the control plane then refuses the repeat', async () => {
    const dataDir = join(dir, 'agent');
    const retryKey = newRetryKey();
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(retryKeyPath(dataDir), retryKey, { mode: 0o600 }); // left by a start cut short mid-exchange
    agent = await startTestAgent(cp, 'keyed-1', dataDir);
    await untilNodeReady(cp, 'keyed-1');
    expect(existsSync(retryKeyPath(dataDir))).toBe(false);
    const credential = (JSON.parse(readFileSync(credentialPath(dataDir), 'utf8')) as { credential: string }).credential;
    expect(cp.nodeCredentials.verify('keyed-1', credential)).toBe(true);

    // without the confirmation the key stays on record for good (checked: this wait times out)
    await until('the retry key dropped after the node connected', () => !cp.nodeCredentials.hasRetryKey('keyed-1'));
    const repeat = exchangeBootstrapToken({ server: cp.mqttUrl, ca: cp.caCert, node: 'keyed-1', bootstrapToken: cp.nodeToken, retryKey, timeoutMs: 10_000 });
    await expect(repeat).rejects.toMatchObject({ statusCode: 409 });
    expect(cp.nodeCredentials.verify('keyed-1', credential)).toBe(true); // the live credential is untouched
  }, 60_000);

  it('a node that never connected keeps its key: the repeat still gets a credential', async () => {
    const retryKey = newRetryKey();
    const first = await exchangeBootstrapToken({ server: cp.mqttUrl, ca: cp.caCert, node: 'keyed-2', bootstrapToken: cp.nodeToken, retryKey, timeoutMs: 10_000 });
    expect(cp.nodeCredentials.hasRetryKey('keyed-2')).toBe(true);
    const again = await exchangeBootstrapToken({ server: cp.mqttUrl, ca: cp.caCert, node: 'keyed-2', bootstrapToken: cp.nodeToken, retryKey, timeoutMs: 10_000 });
    expect(again).not.toBe(first);
    expect(cp.nodeCredentials.verify('keyed-2', again)).toBe(true);
    expect(await cp.nodeCredentials.confirmReceived('keyed-2')).toBe(true);
    expect(await cp.nodeCredentials.confirmReceived('keyed-2')).toBe(false); // spent once
  }, 30_000);
});
