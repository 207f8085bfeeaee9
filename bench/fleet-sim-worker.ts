// One worker process of the fleet benchmark: runs a slice of the simulated agents
// (bench/fleet-sim-node.ts) so that the control plane's process is measured alone and the
// simulators' own CPU spreads over processes. Driven by bench/fleet.ts over IPC:
//   {join: names[], zones: string[]}  -> {joined, errors}   credential exchange + birth + status, then leases
//   {stats: true}                     -> {stats: {...}}    counters so far (disconnects and reconnects included)
//   {vanish: names[]}                 -> {vanished}        sockets destroyed: the broker sends their Wills
//   {stop: true}                                           end every client, exit
import { newRetryKey, nodeCredentialPath } from '../api/mqtt/node-credential.js';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { defaultBackoff, reconnectDelayMs } from '../agent/mqtt-reconnect-backoff.js';
import { SimNode } from './fleet-sim-node.js';

interface Setup { mqttUrl: string; kubeconfig: string; bootstrapToken: string; concurrency: number; leaseIntervalMs: number }
export type WorkerCommand =
  | { join: string[]; zones: string[] }
  | { stats: true }
  | { vanish: string[] }
  | { stop: true };

const setup = JSON.parse(process.env['FLEET_WORKER'] ?? '{}') as Setup;
const client = new KubeClient(await readKubeconfig(setup.kubeconfig));
const sims = new Map<string, SimNode>();
let errors = 0;
let connectRetries = 0;
let credentialRetries = 0;
const send = (message: object) => process.send!(message);

/**
 * The credential exchange, as an agent's (agent/credentials/node-credential.ts): a dropped
 * connection, 429 or 5xx is tried again after 0.5 s, doubling up to 30 s, jittered; other answers
 * (201, or a refusal) are returned. Past `attempts` the bench gives up. Every attempt carries the
 * same retry key, so one whose answer was lost (a write answered 503 that applied) is answered again.
 */
async function credential(name: string, attempts = 12) {
  const retryKey = newRetryKey();
  for (let attempt = 0; ; attempt++) {
    let failure: string;
    try {
      const res = await client.request<{ credential: string }>('POST', nodeCredentialPath(name), { retryKey }, { authorization: `Bearer ${setup.bootstrapToken}` });
      if (res.status !== 429 && res.status < 500) return res;
      credentialRetries++;
      failure = `credential HTTP ${res.status} ${res.text.slice(0, 200)}`;
    } catch (error) {
      connectRetries++;
      failure = (error as Error).message;
    }
    if (attempt + 1 >= attempts) throw new Error(`${name}: ${failure} (after ${attempts} attempts)`);
    const delayMs = Math.min(30_000, 500 * 2 ** attempt);
    await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random() / 2)));
  }
}

/** Connections tried for a first session before the bench gives that agent up (~4 min of backoff; an agent never does). */
const JOIN_ATTEMPTS = 12;
let joinFailures = 0;
/** An agent that could not join is counted, not fatal: the bench's Ready fraction decides. */
function failJoin(name: string, reason: string): void {
  if (++joinFailures <= 3) console.error(`${name}: not joined: ${reason}`);
}

async function join(names: string[], zones: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: setup.concurrency }, async () => {
    while (next < names.length) {
      const i = next++;
      const name = names[i]!;
      const res = await credential(name).catch((error: Error) => error);
      if (res instanceof Error || (res.status !== 200 && res.status !== 201)) {
        failJoin(name, res instanceof Error ? res.message : `credential HTTP ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      // as a real agent does, a connection that fails before its session is set up (a starved
      // broker: a full accept queue, a connect timeout) is tried again after the agent's backoff
      for (let attempt = 0; ; attempt++) {
        try {
          const sim = await SimNode.join({
            name, mqttUrl: setup.mqttUrl, credential: res.body.credential,
            labels: { 'topology.kubernetes.io/zone': zones[i]! },
            onError: (error) => { if (++errors <= 3) console.error(`${name}: ${error.message}`); },
          });
          sims.set(name, sim);
          // as a real agent: leases from the join on (a join longer than the 40 s grace left the first nodes Unknown)
          sim.renewLeases(setup.leaseIntervalMs, Math.random() * setup.leaseIntervalMs);
          break;
        } catch (error) {
          connectRetries++;
          if (attempt + 1 >= JOIN_ATTEMPTS) {
            failJoin(name, `${(error as Error).message} (after ${JOIN_ATTEMPTS} attempts)`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(attempt, defaultBackoff)));
        }
      }
    }
  }));
}

process.on('message', (command: WorkerCommand) => {
  void (async () => {
    if ('join' in command) {
      await join(command.join, command.zones);
      send({ joined: sims.size, errors, connectRetries, credentialRetries, joinFailures });
    } else if ('stats' in command) {
      let leasesSent = 0; let bytes = 0; let running = 0; let podReports = 0; let desiredMessages = 0; let desiredBytes = 0;
      let disconnects = 0; let reconnects = 0; let reconnectAttempts = 0; let connected = 0;
      for (const s of sims.values()) {
        leasesSent += s.leasesSent; bytes += s.bytes; running += s.runningPods; podReports += s.podReports;
        desiredMessages += s.desiredMessages; desiredBytes += s.desiredBytes;
        disconnects += s.disconnects; reconnects += s.reconnects; reconnectAttempts += s.reconnectAttempts; connected += s.isConnected ? 1 : 0;
      }
      const cpu = process.cpuUsage();
      send({ stats: { leasesSent, bytes, running, podReports, desiredMessages, desiredBytes, errors, disconnects, reconnects, reconnectAttempts, connected, cpuMs: cpu.user / 1000 + cpu.system / 1000 } });
    } else if ('vanish' in command) {
      for (const name of command.vanish) sims.get(name)?.vanish();
      send({ vanished: command.vanish.length });
    } else {
      for (const s of sims.values()) s.stop();
      client.close();
      process.exit(0);
    }
  })().catch((error: Error) => {
    console.error(`fleet worker: ${error.stack ?? error.message}`);
    process.exit(1);
  });
});
send({ ready: true });
