// What every p1 host function works with: the guest's memory, the fd table, and the WASI 0.2 host
// (our own, runtime/wasi/) that p1 calls are translated to — as wasmtime builds its p1 on its p2.
import type { Datetime } from '../clocks.js';
import type { Descriptor } from '../filesystem.js';
import type { InputStream, OutputStream, Pollable } from '../io.js';
import type { WasiImports } from '../wasi-host.js';
import { WasiError } from '../wasi-errors.js';
import { filesystemCodeForErrno } from '../wasi-errors.js';
import type { FdTable } from './fd-table.js';
import type { GuestMemory } from './guest-memory.js';
import { Errno, errnoOfCode, Filetype, P1Error } from './p1-abi.js';

/** The parts of the WASI 0.2 host p1 uses, typed. */
export interface P2Host {
  arguments(): string[];
  environment(): Array<[string, string]>;
  wallNow(): Datetime;
  wallResolution(): Datetime;
  monotonicNow(): bigint;
  monotonicResolution(): bigint;
  subscribeInstant(ns: bigint): Pollable;
  subscribeDuration(ns: bigint): Pollable;
  poll(pollables: Pollable[]): Uint32Array;
  randomBytes(length: bigint): Uint8Array;
  stdin(): InputStream;
  stdout(): OutputStream;
  stderr(): OutputStream;
  directories(): Array<[Descriptor, string]>;
}

export function p2HostOf(imports: WasiImports): P2Host {
  const get = <T>(iface: string, name: string): T => {
    const f = imports[iface]?.[name];
    if (typeof f !== 'function') throw new Error(`WASI host lacks ${iface}.${name}`);
    return f as T;
  };
  return {
    arguments: get('wasi:cli/environment', 'getArguments'),
    environment: get('wasi:cli/environment', 'getEnvironment'),
    wallNow: get('wasi:clocks/wall-clock', 'now'),
    wallResolution: get('wasi:clocks/wall-clock', 'resolution'),
    monotonicNow: get('wasi:clocks/monotonic-clock', 'now'),
    monotonicResolution: get('wasi:clocks/monotonic-clock', 'resolution'),
    subscribeInstant: get('wasi:clocks/monotonic-clock', 'subscribeInstant'),
    subscribeDuration: get('wasi:clocks/monotonic-clock', 'subscribeDuration'),
    poll: get('wasi:io/poll', 'poll'),
    randomBytes: get('wasi:random/random', 'getRandomBytes'),
    stdin: get('wasi:cli/stdin', 'getStdin'),
    stdout: get('wasi:cli/stdout', 'getStdout'),
    stderr: get('wasi:cli/stderr', 'getStderr'),
    directories: get('wasi:filesystem/preopens', 'getDirectories'),
  };
}

export interface P1Context {
  memory: GuestMemory;
  fds: FdTable;
  p2: P2Host;
}

/**
 * Runs a p1 call: its errno (0 on success). P1Errors and WASI 0.2 errors become errno values;
 * anything else (a trap, an exit, a stop request) unwinds the guest.
 */
export function errnoOf(call: () => void): number {
  try {
    call();
    return Errno.SUCCESS;
  } catch (error) {
    if (error instanceof P1Error) return error.errno;
    if (error instanceof WasiError) return errnoOfPayload(error.payload);
    throw error;
  }
}

function errnoOfPayload(payload: unknown): number {
  if (typeof payload === 'string') return errnoOfCode(payload);
  const stream = payload as { tag?: string; val?: { errno?: string } } | undefined;
  // a stream error: closed is EIO (as wasmtime); a failed operation names its errno
  if (stream?.tag === 'last-operation-failed' && stream.val?.errno) return errnoOfCode(filesystemCodeForErrno(stream.val.errno));
  return Errno.IO;
}

/** p1 timestamps are u64 nanoseconds. */
export function nanosOf(datetime: Datetime): bigint {
  const ns = datetime.seconds * 1_000_000_000n + BigInt(datetime.nanoseconds);
  if (ns > 0xffff_ffff_ffff_ffffn || ns < 0n) throw new P1Error(Errno.OVERFLOW);
  return ns;
}

const FILETYPES: Record<string, number> = {
  'regular-file': Filetype.REGULAR_FILE, directory: Filetype.DIRECTORY, 'block-device': Filetype.BLOCK_DEVICE,
  'character-device': Filetype.CHARACTER_DEVICE, 'symbolic-link': Filetype.SYMBOLIC_LINK, socket: Filetype.SOCKET_STREAM,
};
/** p1 never had a FIFO type (wasmtime says unknown); a socket is a stream socket here. */
export const filetypeOf = (type: string): number => FILETYPES[type] ?? Filetype.UNKNOWN;

interface Stat {
  type: string;
  linkCount: bigint;
  size: bigint;
  dataAccessTimestamp?: Datetime;
  dataModificationTimestamp?: Datetime;
  statusChangeTimestamp?: Datetime;
}

const ZERO: Datetime = { seconds: 0n, nanoseconds: 0 };

/** Writes a p1 filestat: dev 1 and ino from the metadata hash, as wasmtime does. */
export function writeFilestat(memory: GuestMemory, ptr: number, stat: Stat, ino: bigint): void {
  const times = [stat.dataAccessTimestamp, stat.dataModificationTimestamp, stat.statusChangeTimestamp].map((t) => nanosOf(t ?? ZERO));
  memory.setU64(ptr, 1n);
  memory.setU64(ptr + 8, ino);
  memory.setU8(ptr + 16, filetypeOf(stat.type));
  memory.setU64(ptr + 24, stat.linkCount);
  memory.setU64(ptr + 32, stat.size);
  memory.setU64(ptr + 40, times[0]!);
  memory.setU64(ptr + 48, times[1]!);
  memory.setU64(ptr + 56, times[2]!);
}
