// Runs Debian's mosquitto on a free loopback port with skiff's generated config, for any test suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { mosquittoAcl, mosquittoConf, mosquittoPasswordFile } from '../../control-plane/broker/mosquitto-config.js';
import { waitFor } from './wait-for.js';

export const MOSQUITTO_PATH = '/usr/sbin/mosquitto';
export const isMosquittoInstalled = existsSync(MOSQUITTO_PATH);

export interface MosquittoServerOptions {
  /** username -> password for the control plane identities (full access to the tree). */
  controlPlaneUsers: Readonly<Record<string, string>>;
  /** node name -> token. */
  nodeUsers: Readonly<Record<string, string>>;
  /** A user that may only read the control plane's presence (the node bootstrap identity). */
  bootstrapUser?: string;
  /** An mqtts:// listener with these PEM files (mosquitto-config.ts); plain MQTT when absent. */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

export interface MosquittoServer {
  port: number;
  url: string;
  /** Everything mosquitto logged (stderr), for diagnosing a failed test. */
  readonly log: string;
  /** Kills the broker and starts it again on the same port (in-memory state is lost). */
  restart(): Promise<void>;
  /** The password file mosquitto reads (a control plane may rewrite it, then reload()). */
  readonly passwordFile: string;
  /** SIGHUP: mosquitto re-reads its password and ACL files; resolves once it says so. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(options: MosquittoServerOptions): Promise<MosquittoServer> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-mosquitto-'));
  const port = await freeLoopbackPort();
  const files = { conf: join(dir, 'mosquitto.conf'), passwords: join(dir, 'passwords'), acl: join(dir, 'acl') };
  await writeFile(files.passwords, mosquittoPasswordFile({ ...options.controlPlaneUsers, ...options.nodeUsers }), { mode: 0o600 });
  await writeFile(files.acl, mosquittoAcl(Object.keys(options.controlPlaneUsers), options.bootstrapUser), { mode: 0o600 });
  await writeFile(files.conf, mosquittoConf({
    host: '127.0.0.1', port, passwordFile: files.passwords, aclFile: files.acl, logDest: 'stderr',
    ...(options.tls ? { tls: options.tls } : {}),
    // Started as root, mosquitto would switch to the `mosquitto` user, who cannot read our 0600 files.
    ...(process.getuid?.() === 0 ? { runAsUser: userInfo().username } : {}),
  }), { mode: 0o600 });

  let log = '';
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn(MOSQUITTO_PATH, ['-c', files.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let hasExited = false;
    proc.once('exit', () => { hasExited = true; });
    proc.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    await waitFor('mosquitto listening', async () => {
      if (hasExited) throw new Error(`mosquitto exited:\n${log}`);
      return canConnect(port);
    }, { timeoutMs: 10_000 });
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    get log() { return log; },
    passwordFile: files.passwords,
    async reload() {
      const seen = log.split('Reloading').length;
      child?.kill('SIGHUP');
      await waitFor('mosquitto reloaded', () => log.split('Reloading').length > seen, { timeoutMs: 10_000 });
    },
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
