// Debian's docker-registry (the CNCF distribution registry) on loopback for the OCI suites: TLS
// with a throwaway CA, and no authentication, htpasswd basic auth, or token auth against a token
// server (test/support/registry-token-server.ts). Each has its own storage dir and stops with the test.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ensureTls } from '../../control-plane/api/tls.js';
import { waitFor } from '../mqtt/wait-for.js';
import { TOOL_PATHS } from './tools.js';

const run = promisify(execFile);

export type RegistryAuthConfig =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface OciRegistry {
  /** host:port, as image references name it */
  host: string;
  caCert: string;
  /** Where the registry keeps blobs (tests corrupt one to check digest verification). */
  storageDir: string;
  stop(): Promise<void>;
  /** Stops the process, keeping its storage and port, so it can be started again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `tlsDir`: a CA and certificate to share (a token server beside it); a new one by default. */
export async function startOciRegistry(auth: RegistryAuthConfig = { kind: 'none' }, tlsDir?: string): Promise<OciRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  const tls = await ensureTls(tlsDir ?? join(dir, 'tls'), { hosts: ['127.0.0.1'] });
  await writeFile(join(dir, 'server.crt'), tls.cert);
  await writeFile(join(dir, 'server.key'), tls.key, { mode: 0o600 });
  let authConfig: Record<string, unknown> | undefined;
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    for (const [user, password] of Object.entries(auth.users)) {
      await run(TOOL_PATHS.htpasswd, ['-bB', ...(Object.keys(auth.users)[0] === user ? ['-c'] : []), file, user, password]);
    }
    authConfig = { htpasswd: { realm: 'skiff-test', path: file } };
  } else if (auth.kind === 'token') {
    await writeFile(join(dir, 'token-root.crt'), auth.rootCertBundle);
    authConfig = { token: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: join(dir, 'token-root.crt') } };
  }
  let child: ChildProcess | undefined;
  let output = '';
  let port = 0;
  const start = async () => {
    for (let attempt = 0; ; attempt++) {
      port ||= await freePort();
      const config = {
        version: 0.1,
        log: { level: 'warn', accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
        http: { addr: `127.0.0.1:${port}`, tls: { certificate: join(dir, 'server.crt'), key: join(dir, 'server.key') } },
        ...(authConfig ? { auth: authConfig } : {}),
      };
      await writeFile(join(dir, 'config.yml'), stringify(config));
      child = spawn(TOOL_PATHS.registry, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
      child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
      const exited = new Promise<boolean>((resolve) => child!.once('exit', () => resolve(false)));
      const ready = waitFor('the registry to listen', () => isListening(port), { timeoutMs: 20_000, intervalMs: 50 }).then(() => true);
      if (await Promise.race([ready, exited])) return;
      if (attempt >= 2) throw new Error(`docker-registry did not start: ${output.slice(-2000)}`);
      port = 0; // taken meanwhile: another port
    }
  };
  const halt = async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
  };
  await start();
  return {
    host: `127.0.0.1:${port}`,
    caCert: tls.caCert,
    storageDir: join(dir, 'storage'),
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    pause: halt,
    resume: start,
  };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
