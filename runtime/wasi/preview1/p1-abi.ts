// WASI preview 1 (wasi_snapshot_preview1) numbers and layouts, from the witx, and the one mapping
// of WASI 0.2 filesystem error codes to p1 errno values (as wasmtime's p1 maps them).
import type { FilesystemErrorCode } from '../wasi-errors.js';

export const Errno = {
  SUCCESS: 0, TOOBIG: 1, ACCES: 2, AGAIN: 6, ALREADY: 7, BADF: 8, BUSY: 10, DEADLK: 16, DQUOT: 19,
  EXIST: 20, FAULT: 21, FBIG: 22, ILSEQ: 25, INPROGRESS: 26, INTR: 27, INVAL: 28, IO: 29, ISDIR: 31,
  LOOP: 32, MLINK: 34, MSGSIZE: 35, NAMETOOLONG: 37, NODEV: 43, NOENT: 44, NOLCK: 46, NOMEM: 48,
  NOSPC: 51, NOSYS: 52, NOTDIR: 54, NOTEMPTY: 55, NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58,
  NOTTY: 59, NXIO: 60, OVERFLOW: 61, PERM: 63, PIPE: 64, RANGE: 68, ROFS: 69, SPIPE: 70, TXTBSY: 74,
  XDEV: 75, NOTCAPABLE: 76,
} as const;

/** A p1 call failed with this errno (thrown inside the host, returned to the guest). */
export class P1Error extends Error {
  override readonly name = 'P1Error';
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

export const Filetype = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4, SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

const bit = (n: number): bigint => 1n << BigInt(n);
export const Rights = {
  FD_DATASYNC: bit(0), FD_READ: bit(1), FD_SEEK: bit(2), FD_FDSTAT_SET_FLAGS: bit(3), FD_SYNC: bit(4),
  FD_TELL: bit(5), FD_WRITE: bit(6), FD_ADVISE: bit(7), FD_ALLOCATE: bit(8), PATH_CREATE_DIRECTORY: bit(9),
  PATH_CREATE_FILE: bit(10), PATH_LINK_SOURCE: bit(11), PATH_LINK_TARGET: bit(12), PATH_OPEN: bit(13),
  FD_READDIR: bit(14), PATH_READLINK: bit(15), PATH_RENAME_SOURCE: bit(16), PATH_RENAME_TARGET: bit(17),
  PATH_FILESTAT_GET: bit(18), PATH_FILESTAT_SET_SIZE: bit(19), PATH_FILESTAT_SET_TIMES: bit(20),
  FD_FILESTAT_GET: bit(21), FD_FILESTAT_SET_SIZE: bit(22), FD_FILESTAT_SET_TIMES: bit(23),
  PATH_SYMLINK: bit(24), PATH_REMOVE_DIRECTORY: bit(25), PATH_UNLINK_FILE: bit(26),
  POLL_FD_READWRITE: bit(27), SOCK_SHUTDOWN: bit(28), SOCK_ACCEPT: bit(29),
  ALL: bit(30) - 1n,
} as const;

export const Fdflags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const Oflags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const Fstflags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const Whence = { SET: 0, CUR: 1, END: 2 } as const;
export const Clockid = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;
export const Eventtype = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const SUBSCRIPTION_CLOCK_ABSTIME = 1;
export const EVENT_FD_READWRITE_HANGUP = 1;
export const ADVICE = ['normal', 'sequential', 'random', 'will-need', 'dont-need', 'no-reuse'] as const;

/** Byte sizes of the structs the guest passes (wasm32 layout). */
export const Size = { IOVEC: 8, FDSTAT: 24, FILESTAT: 64, DIRENT: 24, PRESTAT: 8, SUBSCRIPTION: 48, EVENT: 32 } as const;

const ERRNO_OF_CODE: Record<FilesystemErrorCode, number> = {
  access: Errno.ACCES, 'would-block': Errno.AGAIN, already: Errno.ALREADY, 'bad-descriptor': Errno.BADF,
  busy: Errno.BUSY, deadlock: Errno.DEADLK, quota: Errno.DQUOT, exist: Errno.EXIST, 'file-too-large': Errno.FBIG,
  'illegal-byte-sequence': Errno.ILSEQ, 'in-progress': Errno.INPROGRESS, interrupted: Errno.INTR, invalid: Errno.INVAL,
  io: Errno.IO, 'is-directory': Errno.ISDIR, loop: Errno.LOOP, 'too-many-links': Errno.MLINK,
  'message-size': Errno.MSGSIZE, 'name-too-long': Errno.NAMETOOLONG, 'no-device': Errno.NODEV, 'no-entry': Errno.NOENT,
  'no-lock': Errno.NOLCK, 'insufficient-memory': Errno.NOMEM, 'insufficient-space': Errno.NOSPC,
  'not-directory': Errno.NOTDIR, 'not-empty': Errno.NOTEMPTY, 'not-recoverable': Errno.NOTRECOVERABLE,
  unsupported: Errno.NOTSUP, 'no-tty': Errno.NOTTY, 'no-such-device': Errno.NXIO, overflow: Errno.OVERFLOW,
  'not-permitted': Errno.PERM, pipe: Errno.PIPE, 'read-only': Errno.ROFS, 'invalid-seek': Errno.SPIPE,
  'text-file-busy': Errno.TXTBSY, 'cross-device': Errno.XDEV,
};

/** The errno of a WASI 0.2 filesystem error code (unknown codes: EIO). */
export const errnoOfCode = (code: string): number => ERRNO_OF_CODE[code as FilesystemErrorCode] ?? Errno.IO;
