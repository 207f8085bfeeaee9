// The p1 file descriptor table, kept the way wasmtime's p1 keeps it: 0-2 stdio, then the
// preopens in order; a new descriptor takes the highest number freed so far, else one past the
// highest in use. Each entry wraps a WASI 0.2 resource of our host; a file also has its cursor.
import type { Descriptor } from '../filesystem.js';
import type { InputStream, OutputStream } from '../io.js';
import { Errno, P1Error } from './p1-abi.js';

export interface FileEntry {
  kind: 'file';
  descriptor: Descriptor;
  position: bigint;
  append: boolean;
  nonblocking: boolean;
}
export interface DirectoryEntry {
  kind: 'dir';
  descriptor: Descriptor;
  /** The guest path it was preopened at; none for directories opened with path_open. */
  preopenPath?: string;
}
export type FdEntry =
  | { kind: 'stdin'; stream: InputStream }
  | { kind: 'stdout' | 'stderr'; stream: OutputStream }
  | DirectoryEntry
  | FileEntry;

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

export class FdTable {
  readonly #used = new Map<number, FdEntry>();
  readonly #free: number[] = []; // ascending

  constructor(entries: FdEntry[]) {
    for (const entry of entries) this.push(entry);
  }

  push(entry: FdEntry): number {
    let fd = this.#free.pop();
    if (fd === undefined) {
      fd = this.#used.size === 0 ? 0 : Math.max(...this.#used.keys()) + 1;
      if (fd > 0xffff_ffff) throw new P1Error(Errno.NOMEM);
    }
    this.#used.set(fd, entry);
    return fd;
  }

  get(fd: number): FdEntry {
    const entry = this.#used.get(fd >>> 0);
    if (!entry) throw new P1Error(Errno.BADF);
    return entry;
  }

  has(fd: number): boolean {
    return this.#used.has(fd >>> 0);
  }

  file(fd: number): FileEntry {
    const entry = this.get(fd);
    if (entry.kind !== 'file') throw new P1Error(Errno.BADF);
    return entry;
  }

  dir(fd: number): DirectoryEntry {
    const entry = this.get(fd);
    if (entry.kind !== 'dir') throw new P1Error(Errno.BADF);
    return entry;
  }

  /** The filesystem descriptor of a file or directory (stdio: EBADF). */
  descriptor(fd: number): Descriptor {
    const entry = this.get(fd);
    if (entry.kind !== 'file' && entry.kind !== 'dir') throw new P1Error(Errno.BADF);
    return entry.descriptor;
  }

  /** A file that has a cursor; stdio is ESPIPE, anything else EBADF. */
  seekable(fd: number): FileEntry {
    const entry = this.get(fd);
    if (entry.kind === 'file') return entry;
    throw new P1Error(entry.kind === 'dir' ? Errno.BADF : Errno.SPIPE);
  }

  /** Removes `fd` and releases what it held. */
  close(fd: number): void {
    const entry = this.get(fd);
    this.#used.delete(fd >>> 0);
    this.#insertFree(fd >>> 0);
    release(entry);
  }

  /** Moves `from` onto `to` (closing what `to` held), as fd_renumber does. */
  renumber(from: number, to: number): void {
    if (!this.has(from) || !this.has(to)) throw new P1Error(Errno.BADF);
    if (from >>> 0 === to >>> 0) return;
    this.close(to);
    const entry = this.get(from);
    this.#used.delete(from >>> 0);
    this.#insertFree(from >>> 0);
    this.#free.splice(this.#free.indexOf(to >>> 0), 1);
    this.#used.set(to >>> 0, entry);
  }

  /** Releases everything (the guest ended). */
  closeAll(): void {
    for (const entry of this.#used.values()) release(entry);
    this.#used.clear();
  }

  #insertFree(fd: number): void {
    const at = this.#free.findIndex((n) => n > fd);
    this.#free.splice(at < 0 ? this.#free.length : at, 0, fd);
  }
}

function release(entry: FdEntry): void {
  if (entry.kind === 'file' || entry.kind === 'dir') (entry.descriptor as unknown as Record<symbol, () => void>)[DISPOSE]?.();
  else if (entry.kind !== 'stdin') entry.stream.close();
}
