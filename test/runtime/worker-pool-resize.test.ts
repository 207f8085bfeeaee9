import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../runtime/worker-pool.js';

describe('a worker pool resized at run time', () => {
  it('starts workers when it grows and ends its idle ones when it shrinks to none', async () => {
    const pool = new WorkerPool(0);
    try {
      expect(pool.stats.started).toBe(0);
      pool.resize(1);
      expect(pool.stats.started).toBe(1);
      const worker = await pool.acquire(); // the warm one; a replacement starts
      expect(pool.stats.started).toBe(2);
      pool.release(worker);
      const exited = once(worker, 'exit');
      pool.resize(0);
      await exited;
      const fresh = await pool.acquire(); // nothing warm left: started now
      expect(pool.stats).toEqual({ started: 3, reused: 0 });
      await fresh.terminate();
    } finally {
      await pool.close();
    }
  });
});
