// The one place host failures become WIT error values. jco's bindings turn a thrown object with an
// own `payload` into the `err` case of a result; any other thrown Error unwinds the guest (a trap).

/** Thrown by host functions to return `err(payload)` from a WIT function returning a result. */
export class WasiError extends Error {
  override readonly name = 'WasiError';
  constructor(readonly payload: unknown) {
    super(`WASI error ${typeof payload === 'string' ? payload : JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}` : value))}`);
  }
}

export type FilesystemErrorCode =
  | 'access' | 'would-block' | 'already' | 'bad-descriptor' | 'busy' | 'deadlock' | 'quota' | 'exist'
  | 'file-too-large' | 'illegal-byte-sequence' | 'in-progress' | 'interrupted' | 'invalid' | 'io'
  | 'is-directory' | 'loop' | 'too-many-links' | 'message-size' | 'name-too-long' | 'no-device'
  | 'no-entry' | 'no-lock' | 'insufficient-memory' | 'insufficient-space' | 'not-directory'
  | 'not-empty' | 'not-recoverable' | 'unsupported' | 'no-tty' | 'no-such-device' | 'overflow'
  | 'not-permitted' | 'pipe' | 'read-only' | 'invalid-seek' | 'text-file-busy' | 'cross-device';

// the errno values wasmtime names (crates/wasi/src/filesystem.rs); any other is io, as there
// (EROFS, EXDEV, EDQUOT, ETXTBSY...): the guest sees what it would see under wasmtime
const ERRNO_TO_FILESYSTEM_CODE: Record<string, FilesystemErrorCode> = {
  EPIPE: 'pipe', EPERM: 'not-permitted', ENOENT: 'no-entry', ENOMEM: 'insufficient-memory', EIO: 'io',
  EBADF: 'bad-descriptor', EBUSY: 'busy', EACCES: 'access', ENOTDIR: 'not-directory', EISDIR: 'is-directory',
  EINVAL: 'invalid', EEXIST: 'exist', EFBIG: 'file-too-large', ENOSPC: 'insufficient-space', ESPIPE: 'invalid-seek',
  EMLINK: 'too-many-links', ENAMETOOLONG: 'name-too-long', ENOTEMPTY: 'not-empty', ELOOP: 'loop', EOVERFLOW: 'overflow',
  EILSEQ: 'illegal-byte-sequence', ENOTSUP: 'unsupported', EOPNOTSUPP: 'unsupported', EALREADY: 'already',
  EINPROGRESS: 'in-progress', EINTR: 'interrupted',
};

/**
 * Runs a filesystem operation; Node errno errors become `err(error-code)`. WasiErrors pass as they
 * are, and anything else (a guest stop, a host bug) keeps unwinding.
 */
export function withFilesystemErrors<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (typeof errno === 'string' && !(error instanceof WasiError)) throw new WasiError(filesystemCodeForErrno(errno));
    throw error;
  }
}

export const filesystemCodeForErrno = (errno: string): FilesystemErrorCode => ERRNO_TO_FILESYSTEM_CODE[errno] ?? 'io';
