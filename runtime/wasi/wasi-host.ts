// Assembles our WASI 0.2 host: one import object keyed the way jco's bindings read them
// (unversioned: `imports['wasi:cli/stdout']`), built fresh for every guest instance.
import { createCliImports, type CliOptions } from './cli.js';
import { createClocksImports } from './clocks.js';
import { createFilesystemImports, type OpenFileTracker, type PreopenDir } from './filesystem.js';
import type { GuestNet } from '../net/guest-net.js';
import type { GuestControl } from './guest-control.js';
import { createHttpImports } from './http.js';
import { createPoll, ioErrorImports, ioStreamsImports, type ByteSink } from './io.js';
import { createRandomImports } from './random.js';
import { createSocketsImports, type PodPorts } from './sockets.js';

export interface WasiHostOptions {
  args: string[];
  env: Array<[string, string]>;
  stdin: CliOptions['stdin'];
  stdout: ByteSink;
  stderr: ByteSink;
  preopens: PreopenDir[];
  control: GuestControl;
  files: OpenFileTracker;
  /** The pod's TCP ports; without them wasi:sockets denies bind and listen. */
  ports?: PodPorts;
  /** The pod network for outgoing requests; without it wasi:http/outgoing-handler denies them. */
  net?: GuestNet;
}

export type WasiImports = Record<string, Record<string, unknown>>;

export function createWasiImports(options: WasiHostOptions): WasiImports {
  return {
    ...createCliImports({ ...options, cwd: options.preopens.find((p) => p.guestPath === '/')?.guestPath }),
    ...createClocksImports(options.control),
    ...createFilesystemImports(options.preopens, options.control, options.files),
    ...createHttpImports(options.control, options.net),
    'wasi:io/error': ioErrorImports,
    'wasi:io/poll': createPoll(options.control),
    'wasi:io/streams': ioStreamsImports,
    ...createRandomImports(),
    ...createSocketsImports(options.control, options.ports, options.net),
  };
}

/** Strips the version from an import key, as jco does: `wasi:cli/stdout@0.2.3` -> `wasi:cli/stdout`. */
export const unversionedInterface = (name: string): string => name.replace(/@[^/]*$/, '');
