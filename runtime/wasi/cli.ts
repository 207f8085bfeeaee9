// wasi:cli: arguments and environment from the spec, exit (incl. exit-with-code), stdio, terminal.
import type { GuestControl } from './guest-control.js';
import { BytesSource, InputStream, OutputStream, type ByteSink, type ByteSource } from './io.js';

/** Raised by wasi:cli/exit; unwinds the guest and carries the exit code. */
export class GuestExit extends Error {
  override readonly name = 'GuestExit';
  constructor(readonly exitCode: number) {
    super(`exit(${exitCode})`);
  }
}

export interface CliOptions {
  args: string[];
  env: Array<[string, string]>;
  /** Bytes known in advance (then EOF), or a source that fills as a client types (interactive stdin). */
  stdin: Uint8Array | ByteSource;
  stdout: ByteSink;
  stderr: ByteSink;
  control: GuestControl;
  /** The guest's initial working directory, if any. */
  cwd?: string;
}

// No guest has a terminal: every get-terminal-* returns none.
class TerminalInput {}
class TerminalOutput {}

export function createCliImports(options: CliOptions) {
  const stdin = new InputStream(options.stdin instanceof Uint8Array ? new BytesSource(options.stdin) : options.stdin, options.control);
  const stdout = new OutputStream(options.stdout, options.control);
  const stderr = new OutputStream(options.stderr, options.control);
  // copies: the guest may keep the lists, and the spec's arrays must not change under it
  const args = [...options.args];
  const env = options.env.map(([k, v]): [string, string] => [k, v]);
  return {
    'wasi:cli/environment': {
      getArguments: () => args,
      getEnvironment: () => env,
      initialCwd: () => options.cwd,
    },
    'wasi:cli/exit': {
      // WASI 0.2 `exit(result)` has no number: err means failure, which POSIX spells 1
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new GuestExit(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number) => {
        throw new GuestExit(code & 0xff);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: (): TerminalInput | undefined => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: (): TerminalOutput | undefined => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: (): TerminalOutput | undefined => undefined },
  };
}
