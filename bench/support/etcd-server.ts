// Starts a throwaway single-member etcd on loopback (free ports, temp data dir) for tests and benchmarks to share.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = process.env.ETCD_BINARY ?? '/usr/bin/etcd';
export const isEtcdAvailable = existsSync(ETCD_BINARY);

export interface EtcdServerOptions {
  startTimeoutMs?: number;
  /**
   * etcd's own log (zap JSON, level warn: slow applies, slow fsyncs, dropped streams, alarms) is
   * appended here, and every exit of the process; a file named here (or by $SKIFF_ETCD_LOG) is kept
   * after stop(). Default: a file beside the data dir, deleted with it.
   */
  logFile?: string;
  /** Extra etcd flags, e.g. ['--quota-backend-bytes', '8589934592']. */
  extraArgs?: string[];
}

export interface EtcdServer {
  /** http://127.0.0.1:PORT, for openEtcdStore({ endpoints: [endpoint] }). */
  endpoint: string;
  /** Where etcd's log goes (see EtcdServerOptions.logFile). */
  logFile: string;
  /** The last `lines` lines of etcd's log, for a failure report. */
  logTail(lines?: number): Promise<string>;
  /** Kills the server with SIGKILL (no clean shutdown) and starts it again on the same data and ports. */
  crashAndRestart(): Promise<void>;
  /** Kills the server with SIGKILL, keeping its data and ports for restart(). */
  crash(): Promise<void>;
  /** Starts a crashed server again on the same data and ports. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  const keptLog = options.logFile ?? process.env['SKIFF_ETCD_LOG'];
  const logFile = keptLog ?? `${dataDir}.log`;
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const note = (text: string) => log.write(`${JSON.stringify({ level: 'note', ts: new Date().toISOString(), msg: text })}\n`);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'default', '--data-dir', dataDir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'warn',
    ...(options.extraArgs ?? []),
  ];
  note(`starting ${ETCD_BINARY} ${args.join(' ')}`);
  let logTail = '';
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      logTail = (logTail + chunk.toString()).slice(-2000);
    });
    child.once('exit', (code, signal) => note(`etcd (pid ${child.pid}) exited: code ${code}, signal ${signal}`));
    try {
      await waitUntilHealthy(endpoint, child, startTimeoutMs);
      return child;
    } catch (error) {
      await stopProcess(child, 'SIGKILL');
      throw new Error(`etcd did not become healthy: ${(error as Error).message}\n${logTail}`);
    }
  };
  let child = await launch().catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    log.end();
    if (keptLog === undefined) await rm(logFile, { force: true });
    throw error;
  });
  return {
    endpoint,
    logFile,
    async logTail(lines = 40) {
      await new Promise<void>((resolve) => log.write('', () => resolve()));
      const text = await readFile(logFile, 'utf8').catch((error: Error) => `(no etcd log: ${error.message})`);
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async crashAndRestart() {
      await stopProcess(child, 'SIGKILL');
      child = await launch();
    },
    async crash() {
      await stopProcess(child, 'SIGKILL');
    },
    async restart() {
      child = await launch();
    },
    async stop() {
      await stopProcess(child, 'SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
      await new Promise<void>((resolve) => log.end(() => resolve()));
      if (keptLog === undefined) await rm(logFile, { force: true });
    },
  };
}

async function waitUntilHealthy(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode}`);
    const isHealthy = await fetch(`${endpoint}/health`)
      .then(async (response) => ((await response.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    if (isHealthy) return;
    if (Date.now() > deadline) throw new Error(`no healthy answer from ${endpoint}/health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval, not a wait for an outcome
  }
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    // etcd normally exits promptly on SIGTERM; never leave it running.
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
