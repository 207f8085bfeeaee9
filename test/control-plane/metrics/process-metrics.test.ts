import fs from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControlPlaneMetrics } from '../../../control-plane/metrics/control-plane-metrics.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

afterEach(() => vi.restoreAllMocks());

describe('process metrics', () => {
  // prom-client's defaults walk /proc/self/fd synchronously and every libuv handle on the event
  // loop at each scrape: O(agents' sockets) in front of every API request.
  it('scrapes without a synchronous walk of file descriptors or handles', async () => {
    const metrics = new ControlPlaneMetrics({ storeBackend: 'sqlite' });
    const readdirSync = vi.spyOn(fs, 'readdirSync');
    const handles = vi.spyOn(process as unknown as { _getActiveHandles: () => unknown[] }, '_getActiveHandles');
    const resources = vi.spyOn(process, 'getActiveResourcesInfo');
    const m = parsePrometheusText(await metrics.metrics());
    expect(readdirSync.mock.calls.filter(([path]) => String(path).startsWith('/proc'))).toEqual([]);
    expect(handles).not.toHaveBeenCalled();
    expect(resources).not.toHaveBeenCalled();
    // the Node-standard series a dashboard reads are still there
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds', 'nodejs_gc_duration_seconds']) {
      expect(m.types.has(name), name).toBe(true);
    }
    expect(m.types.has('nodejs_active_handles')).toBe(false);
  });

  it.runIf(process.platform === 'linux')('counts open file descriptors, sockets included', async () => {
    const metrics = new ControlPlaneMetrics({ storeBackend: 'sqlite' });
    const before = parsePrometheusText(await metrics.metrics()).sum('process_open_fds');
    expect(before).toBeGreaterThan(0);
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const sockets: Socket[] = [];
    const accepted = new Promise<void>((resolve) => {
      let n = 0;
      server.on('connection', (s) => {
        sockets.push(s);
        if (++n === 10) resolve();
      });
    });
    for (let i = 0; i < 10; i++) sockets.push(connect(port, '127.0.0.1'));
    await accepted;
    const after = parsePrometheusText(await metrics.metrics()).sum('process_open_fds');
    // 10 client sockets, 10 accepted, the listener: other fds may come and go, never 21 fewer
    expect(after - before).toBeGreaterThanOrEqual(21);
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
});
