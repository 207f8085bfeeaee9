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

const ERRNO_TO_FILESYSTEM_CODE: Record<string, FilesystemErrorCode> = {
  EACCES: 'access', EAGAIN: 'would-block', EALREADY: 'already', EBADF: 'bad-descriptor', EBUSY: 'busy',
  EDEADLK: 'deadlock', EDQUOT: 'quota', EEXIST: 'exist', EFBIG: 'file-too-large', EILSEQ: 'illegal-byte-sequence',
  EINPROGRESS: 'in-progress', EINTR: 'interrupted', EINVAL: 'invalid', EIO: 'io', EISDIR: 'is-directory',
  ELOOP: 'loop', EMLINK: 'too-many-links', EMSGSIZE: 'message-size', ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device', ENOENT: 'no-entry', ENOLCK: 'no-lock', ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space', ENOTDIR: 'not-directory', ENOTEMPTY: 'not-empty', ENOTRECOVERABLE: 'not-recoverable',
  ENOTSUP: 'unsupported', EOPNOTSUPP: 'unsupported', ENOTTY: 'no-tty', ENXIO: 'no-such-device',
  EOVERFLOW: 'overflow', EPERM: 'not-permitted', EPIPE: 'pipe', EROFS: 'read-only', ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy', EXDEV: 'cross-device', EMFILE: 'insufficient-memory', ENFILE: 'insufficient-memory',
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
