// A long-running kubectl (exec -i, attach, port-forward) whose output a test waits on: stdin stays
// open to be typed into, stdout/stderr accumulate, and `printed` resolves when a text shows up.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { TOOL_PATHS } from './tools.js';

export interface SpawnedKubectl {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) contains `text`; rejects when kubectl exits first, or after `timeoutMs`. */
  printed(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  type(text: string): void;
}

export function spawnKubectl(kubeconfig: string, args: string[], env: Record<string, string> = {}): SpawnedKubectl {
  const child = spawn(TOOL_PATHS.kubectl, args, { env: { ...process.env, ...env, KUBECONFIG: kubeconfig } });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', (c: Buffer) => { out.stdout += c.toString(); changed(); });
  child.stderr.on('data', (c: Buffer) => { out.stderr += c.toString(); changed(); });
  let code: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => child.once('exit', (c, signal) => {
    code = c ?? signal ?? 'unknown';
    resolve(code);
    changed();
  }));
  const printed = (text: string, timeoutMs = 60_000) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`kubectl ${args.join(' ')} did not print ${JSON.stringify(text)} in ${timeoutMs} ms; stdout ${JSON.stringify(out.stdout)}, stderr ${JSON.stringify(out.stderr)}`)), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      waiters.delete(check);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (out.stdout.includes(text) || out.stderr.includes(text)) finish();
      else if (code !== undefined) finish(new Error(`kubectl ${args.join(' ')} exited (${code}) before printing ${JSON.stringify(text)}; stdout ${JSON.stringify(out.stdout)}, stderr ${JSON.stringify(out.stderr)}`));
    };
    waiters.add(check);
    check();
  });
  return { child, stdout: () => out.stdout, stderr: () => out.stderr, printed, exited, type: (text) => child.stdin.write(text) };
}
