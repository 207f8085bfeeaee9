// Records the host fds a guest holds in the shared control block (see guest-messages.ts).
//
// An fd is a number, and numbers are reused process-wide as soon as they are closed: by other
// guests' workers, by libuv (a new worker's event loop), by the ESM loader. Closing a left-over
// number that was closed behind the tracker's back and reused since takes another thread's fd
// away; libuv aborts the whole process when its epoll registration of that fd then fails
// (uv__epoll_ctl_prep -> abort). So each slot also records the file's identity (its inode), and
// a left-over fd is closed only while the number still names that file.
import { closeSync, fstatSync } from 'node:fs';
import type { OpenFileTracker } from '../wasi/filesystem.js';
import { CONTROL_FIRST_FD_IDENTITY_INDEX, CONTROL_FIRST_FD_INDEX, MAX_OPEN_FILES } from './guest-messages.js';

const END = CONTROL_FIRST_FD_INDEX + MAX_OPEN_FILES;
const IDENTITY_OFFSET = CONTROL_FIRST_FD_IDENTITY_INDEX - CONTROL_FIRST_FD_INDEX;

/** The low 32 bits of the inode `fd` names now; undefined when it names nothing. */
function identityOf(fd: number): number | undefined {
  try {
    return Number(fstatSync(fd, { bigint: true }).ino & 0xffffffffn) | 0;
  } catch {
    return undefined;
  }
}

export class SharedFileTracker implements OpenFileTracker {
  constructor(private readonly control: Int32Array) {}

  opened(fd: number): boolean {
    const identity = identityOf(fd) ?? 0;
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      if (Atomics.load(this.control, i) !== 0) continue;
      // the identity first: a slot whose fd is visible always has its identity beside it
      Atomics.store(this.control, i + IDENTITY_OFFSET, identity);
      if (Atomics.compareExchange(this.control, i, 0, fd + 1) === 0) return true;
    }
    return false;
  }

  /** False when `fd` is not recorded (the run's end took it already): the caller must not close it. */
  closed(fd: number): boolean {
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      if (Atomics.compareExchange(this.control, i, fd + 1, 0) === fd + 1) return true;
    }
    return false;
  }

  /** Fds still recorded (taken out of the block), each with the identity it was opened with. */
  static takeOpen(control: Int32Array): { fd: number; identity: number }[] {
    const fds: { fd: number; identity: number }[] = [];
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      const slot = Atomics.exchange(control, i, 0);
      if (slot !== 0) fds.push({ fd: slot - 1, identity: Atomics.load(control, i + IDENTITY_OFFSET) });
    }
    return fds;
  }

  /**
   * Closes the fds the guest left open (for the runtime, after the worker is gone, or the worker
   * itself at the end of a run): only those whose number still names the file that was opened.
   * Returns how many were skipped (closed and reused behind the tracker's back).
   */
  static closeLeftOpen(control: Int32Array): number {
    let skipped = 0;
    for (const { fd, identity } of SharedFileTracker.takeOpen(control)) {
      if (identityOf(fd) !== identity) {
        skipped++;
        continue;
      }
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    return skipped;
  }
}
