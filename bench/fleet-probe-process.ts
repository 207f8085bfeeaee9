// The fleet benchmark's API probe (bench/fleet-probe.ts) in a process of its own, as a second
// kubectl would be: the bench's own process follows every pod of the workload over a watch, and its
// event-loop delay (p99 60 ms, max 566 ms at 2,000 pods, load 18) was counted in the probe's
// latencies. Started with fork; told to stop over IPC; answers with its figures.
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../cli/kube-client.js';
import { readKubeconfig } from '../cli/kubeconfig-reader.js';
import { startApiProbe, type ApiProbeFigures } from './fleet-probe.js';

export interface ProbeProcessSetup {
  kubeconfig: string;
  listPath: string;
  createPath: string;
  namePrefix: string;
  periodMs: number;
  loopScrapeMs: number;
  /** The control plane's pid, for its RSS. */
  controlPlanePid: number;
}

/** Forks the probe; resolves once it has started measuring. */
export async function forkApiProbe(setup: ProbeProcessSetup): Promise<{ stop(): Promise<ApiProbeFigures>; kill(): void }> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, FLEET_PROBE: JSON.stringify(setup) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(key: string) => new Promise<T>((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message[key] as T);
    };
    const onExit = (code: number | null) => reject(new Error(`API probe exited with ${code} before answering ${key}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  await next('started');
  return {
    async stop() {
      const figures = next<ApiProbeFigures>('figures');
      child.send({ stop: true });
      return figures;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

async function main(setup: ProbeProcessSetup): Promise<void> {
  const client = new KubeClient(await readKubeconfig(setup.kubeconfig));
  const rssMB = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${setup.controlPlanePid}/status`, 'utf8'))![1]) / 1024);
  const probe = startApiProbe({ ...setup, client, rssMB });
  process.once('message', () => {
    void probe.stop().then((figures) => {
      client.close();
      process.send!({ figures }, () => process.exit(0));
    });
  });
  process.send!({ started: true });
}

if (process.env['FLEET_PROBE'] && process.send) await main(JSON.parse(process.env['FLEET_PROBE']) as ProbeProcessSetup);
