// The fleet benchmark's worker processes (bench/fleet-sim-worker.ts), each running a slice of the
// simulated agents, driven over IPC.
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface WorkerStats {
  leasesSent: number;
  bytes: number;
  running: number;
  podReports: number;
  desiredMessages: number;
  desiredBytes: number;
  errors: number;
  /** Sessions closed after they were set up, sessions set up again, attempts to (agent/mqtt-reconnect-backoff.ts's delays). */
  disconnects: number;
  reconnects: number;
  reconnectAttempts: number;
  /** Simulated agents with a session up now. */
  connected: number;
  cpuMs: number;
}

interface JoinReply { joined: number; errors: number; connectRetries: number; credentialRetries: number; joinFailures: number }
type Reply = { ready: true } | JoinReply | { stats: WorkerStats } | { vanished: number };

export class FleetWorkers {
  #children: ChildProcess[] = [];
  /** Which worker runs which simulated node. */
  readonly #owner = new Map<string, number>();

  get count(): number {
    return this.#children.length;
  }

  async start(count: number, setup: object, forker: (script: string, options: ForkOptions) => ChildProcess): Promise<void> {
    const script = fileURLToPath(new URL('./fleet-sim-worker.js', import.meta.url));
    this.#children = Array.from({ length: count }, () => forker(script, { env: { ...process.env, FLEET_WORKER: JSON.stringify(setup) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    for (const child of this.#children) {
      child.once('exit', (code) => { if (code) console.error(`fleet worker ${child.pid} exited with ${code}`); });
    }
    await Promise.all(this.#children.map((c) => this.#next(c, 'ready')));
  }

  /** Joins the nodes, each worker a contiguous slice (so a zone is one or a few workers). */
  async join(names: string[], zones: string[]): Promise<JoinReply> {
    const per = Math.ceil(names.length / this.#children.length);
    const replies = await Promise.all(this.#children.map((child, w) => {
      const slice = names.slice(w * per, (w + 1) * per);
      slice.forEach((name) => this.#owner.set(name, w));
      child.send({ join: slice, zones: zones.slice(w * per, (w + 1) * per) });
      return this.#next(child, 'joined') as Promise<JoinReply>;
    }));
    return replies.reduce((sum, r) => ({
      joined: sum.joined + r.joined, errors: sum.errors + r.errors, connectRetries: sum.connectRetries + r.connectRetries, credentialRetries: sum.credentialRetries + r.credentialRetries,
      joinFailures: sum.joinFailures + r.joinFailures,
    }), { joined: 0, errors: 0, connectRetries: 0, credentialRetries: 0, joinFailures: 0 });
  }

  async stats(): Promise<WorkerStats> {
    const all = await Promise.all(this.#children.map((child) => {
      child.send({ stats: true });
      return this.#next(child, 'stats').then((r) => (r as { stats: WorkerStats }).stats);
    }));
    const sum: WorkerStats = {
      leasesSent: 0, bytes: 0, running: 0, podReports: 0, desiredMessages: 0, desiredBytes: 0, errors: 0, disconnects: 0, reconnects: 0, reconnectAttempts: 0, connected: 0, cpuMs: 0,
    };
    for (const s of all) for (const k of Object.keys(sum) as Array<keyof WorkerStats>) sum[k] += s[k];
    return sum;
  }

  async vanish(names: string[]): Promise<void> {
    const byWorker = new Map<number, string[]>();
    for (const name of names) {
      const w = this.#owner.get(name);
      if (w !== undefined) byWorker.set(w, [...(byWorker.get(w) ?? []), name]);
    }
    await Promise.all([...byWorker].map(([w, list]) => {
      this.#children[w]!.send({ vanish: list });
      return this.#next(this.#children[w]!, 'vanished');
    }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.send({ stop: true });
    })));
  }

  kill(): void {
    for (const child of this.#children) child.kill('SIGKILL');
  }

  #next(child: ChildProcess, key: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: Reply) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`fleet worker exited with ${code} before answering ${key}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }
}
