// The `wasi_snapshot_preview1` import object for core modules, built on our WASI 0.2 host the way
// wasmtime builds its p1 on its p2 — rather than wrapping the module with the preview 1 adapter:
// the adapter keeps its state in a page it grows lazily inside the guest's memory, which the
// allocators of Rust std, wasi-libc (before __heap_end) and AssemblyScript then count as their own
// free heap ("assertion failed at adapter line 2857/2858" once the heap reaches it).
import { GuestExit } from '../cli.js';
import type { WasiImports } from '../wasi-host.js';
import { FdTable, type FdEntry } from './fd-table.js';
import { GuestMemory, utf8Bytes } from './guest-memory.js';
import { Clockid, Errno, P1Error } from './p1-abi.js';
import { errnoOf, nanosOf, p2HostOf, type P1Context } from './p1-context.js';
import { createFdCalls } from './p1-fd.js';
import { createPathCalls } from './p1-path.js';
import { createPollCall } from './p1-poll.js';

export interface Preview1Host {
  /** The import object: `{ wasi_snapshot_preview1: ... }`. */
  imports: WebAssembly.Imports;
  /** Gives the host the instance's memory (its `memory` export), before `_start` runs. */
  bind(memory: WebAssembly.Memory): void;
  /** Releases the descriptors the guest still holds. */
  close(): void;
}

/** proc_exit with a status wasmtime refuses (126 and up are the shell's). */
export class InvalidExitStatusError extends Error {
  override readonly name = 'InvalidExitStatusError';
}

export function createPreview1Host(p2Imports: WasiImports): Preview1Host {
  const memory = new GuestMemory();
  const p2 = p2HostOf(p2Imports);
  const stdio: FdEntry[] = [
    { kind: 'stdin', stream: p2.stdin() },
    { kind: 'stdout', stream: p2.stdout() },
    { kind: 'stderr', stream: p2.stderr() },
  ];
  const preopens: FdEntry[] = p2.directories().map(([descriptor, preopenPath]) => ({ kind: 'dir', descriptor, preopenPath }));
  const ctx: P1Context = { memory, fds: new FdTable([...stdio, ...preopens]), p2 };
  const strings = (list: string[]) => list.map((s) => utf8Bytes(s));
  const environ = () => strings(p2.environment().map(([k, v]) => `${k}=${v}`));
  const writeList = (items: Uint8Array[], pointers: number, buffer: number) => {
    let at = buffer;
    items.forEach((item, i) => {
      memory.setU32(pointers + 4 * i, at);
      memory.write(at, item);
      memory.setU8(at + item.length, 0);
      at += item.length + 1;
    });
  };
  const sizes = (items: Uint8Array[], countOut: number, sizeOut: number) => {
    memory.setU32(countOut, items.length);
    memory.setU32(sizeOut, items.reduce((n, item) => n + item.length + 1, 0));
  };
  const clock = (id: number, what: 'now' | 'resolution'): bigint => {
    if (id === Clockid.REALTIME) return nanosOf(what === 'now' ? p2.wallNow() : p2.wallResolution());
    if (id === Clockid.MONOTONIC) return what === 'now' ? p2.monotonicNow() : p2.monotonicResolution();
    if (id === Clockid.PROCESS_CPUTIME || id === Clockid.THREAD_CPUTIME) throw new P1Error(Errno.BADF);
    throw new P1Error(Errno.INVAL);
  };
  const calls = {
    args_get: (argv: number, buf: number) => errnoOf(() => writeList(strings(p2.arguments()), argv, buf)),
    args_sizes_get: (countOut: number, sizeOut: number) => errnoOf(() => sizes(strings(p2.arguments()), countOut, sizeOut)),
    environ_get: (env: number, buf: number) => errnoOf(() => writeList(environ(), env, buf)),
    environ_sizes_get: (countOut: number, sizeOut: number) => errnoOf(() => sizes(environ(), countOut, sizeOut)),
    clock_res_get: (id: number, out: number) => errnoOf(() => memory.setU64(out, clock(id, 'resolution'))),
    clock_time_get: (id: number, _precision: bigint, out: number) => errnoOf(() => memory.setU64(out, clock(id, 'now'))),
    ...createFdCalls(ctx),
    ...createPathCalls(ctx),
    ...createPollCall(ctx),
    proc_exit: (status: number): never => {
      if (status >>> 0 >= 126) throw new InvalidExitStatusError('exit with invalid exit status outside of [0..126)');
      throw new GuestExit(status);
    },
    proc_raise: () => Errno.NOTSUP,
    sched_yield: () => Errno.SUCCESS,
    random_get: (buf: number, length: number) => errnoOf(() => memory.write(buf, p2.randomBytes(BigInt(length >>> 0)))),
    sock_accept: (fd: number) => errnoOf(() => notSocket(ctx, fd)),
    sock_recv: (fd: number) => errnoOf(() => notSocket(ctx, fd)),
    sock_send: (fd: number) => errnoOf(() => notSocket(ctx, fd)),
    sock_shutdown: (fd: number) => errnoOf(() => notSocket(ctx, fd)),
  };
  return {
    imports: { wasi_snapshot_preview1: calls },
    bind: (m) => memory.bind(m),
    close: () => ctx.fds.closeAll(),
  };
}

// p1 sockets (sock_*) are not implemented by wasmtime either: a valid fd is ENOTSOCK
function notSocket(ctx: P1Context, fd: number): never {
  ctx.fds.get(fd);
  throw new P1Error(Errno.NOTSOCK);
}
