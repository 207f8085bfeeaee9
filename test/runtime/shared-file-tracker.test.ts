// The control block's record of a guest's host fds: left-over fds are closed after the guest
// ends, but never a number that was closed behind the tracker's back and reused since (closing
// another thread's fd made libuv abort the whole agent: uv__epoll_ctl_prep -> abort).
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createControlBuffer, CONTROL_FIRST_FD_INDEX, CONTROL_NET_INDEX, CONTROL_POOL_PAGES_INDEX, MAX_OPEN_FILES } from '../../runtime/worker/guest-messages.js';
import { SharedFileTracker } from '../../runtime/worker/shared-file-tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-fd-tracker-'));
writeFileSync(join(dir, 'other'), 'someone else');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** A seeded PRNG (mulberry32): reproducible rounds. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SharedFileTracker', () => {
  it('closes the fds a guest left open', () => {
    const control = new Int32Array(createControlBuffer());
    const tracker = new SharedFileTracker(control);
    const fd = openSync(dir, 'r');
    expect(tracker.opened(fd)).toBe(true);
    expect(SharedFileTracker.closeLeftOpen(control)).toBe(0);
    expect(isOpen(fd)).toBe(false);
    expect(SharedFileTracker.takeOpen(control)).toEqual([]);
  });

  it('never closes a number closed behind its back and reused by someone else since, repeated', () => {
    const next = random(20261207);
    for (let round = 0; round < 200; round++) {
      const control = new Int32Array(createControlBuffer());
      const tracker = new SharedFileTracker(control);
      const guestFds = Array.from({ length: 1 + Math.floor(next() * 4) }, () => openSync(dir, 'r'));
      for (const fd of guestFds) expect(tracker.opened(fd)).toBe(true);
      // the guest's fds vanish without the tracker hearing of it (a worker torn down mid-close) ...
      for (const fd of guestFds) closeSync(fd);
      // ... and the lowest free numbers go to someone else: a file, another worker's event loop
      const others = guestFds.map(() => openSync(join(dir, 'other'), 'r'));
      expect(others.some((fd) => guestFds.includes(fd))).toBe(true);
      SharedFileTracker.closeLeftOpen(control);
      for (const fd of others) {
        expect(isOpen(fd)).toBe(true); // without the identity check, the guest's numbers close these
        closeSync(fd);
      }
    }
  });

  it('tells a late close that the run already took the fd (so the caller leaves the number alone)', () => {
    const control = new Int32Array(createControlBuffer());
    const tracker = new SharedFileTracker(control);
    const fd = openSync(dir, 'r');
    expect(tracker.opened(fd)).toBe(true);
    expect(SharedFileTracker.closeLeftOpen(control)).toBe(0); // the run ended
    expect(tracker.closed(fd)).toBe(false); // a descriptor disposed afterwards must not close it again
    const again = openSync(dir, 'r');
    expect(tracker.opened(again)).toBe(true);
    expect(tracker.closed(again)).toBe(true);
    closeSync(again);
  });

  it('keeps its slots apart from the rest of the control block', () => {
    const control = new Int32Array(createControlBuffer());
    const tracker = new SharedFileTracker(control);
    const fds = Array.from({ length: MAX_OPEN_FILES }, () => openSync(dir, 'r'));
    try {
      for (const fd of fds) expect(tracker.opened(fd)).toBe(true);
      const extra = openSync(dir, 'r');
      expect(tracker.opened(extra)).toBe(false); // full: the caller closes it
      closeSync(extra);
      expect(control[CONTROL_POOL_PAGES_INDEX]).toBe(0);
      expect(control[CONTROL_NET_INDEX]).toBe(0);
      expect(control[CONTROL_FIRST_FD_INDEX - 1]).toBe(0); // the stop flag
    } finally {
      expect(SharedFileTracker.closeLeftOpen(control)).toBe(0);
    }
    for (const fd of fds) expect(isOpen(fd)).toBe(false);
  });
});
