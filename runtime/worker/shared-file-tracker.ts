// Records the host fds a guest holds in the shared control block (see guest-messages.ts).
import type { OpenFileTracker } from '../wasi/filesystem.js';
import { CONTROL_FIRST_FD_INDEX, MAX_OPEN_FILES } from './guest-messages.js';

const END = CONTROL_FIRST_FD_INDEX + MAX_OPEN_FILES;

export class SharedFileTracker implements OpenFileTracker {
  constructor(private readonly control: Int32Array) {}

  opened(fd: number): boolean {
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      if (Atomics.compareExchange(this.control, i, 0, fd + 1) === 0) return true;
    }
    return false;
  }

  closed(fd: number): void {
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      if (Atomics.compareExchange(this.control, i, fd + 1, 0) === fd + 1) return;
    }
  }

  /** Fds still open (for the runtime, after the worker is gone). */
  static openFds(control: Int32Array): number[] {
    const fds: number[] = [];
    for (let i = CONTROL_FIRST_FD_INDEX; i < END; i++) {
      const slot = Atomics.exchange(control, i, 0);
      if (slot !== 0) fds.push(slot - 1);
    }
    return fds;
  }
}
