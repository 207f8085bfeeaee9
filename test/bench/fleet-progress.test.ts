// The fleet bench's progress samples (bench/fleet-progress.ts): gauges read from a real prom-client
// exposition, pods/s per period and so far, and a scrape that fails leaves the memory figures out.
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { gaugeValue, sampleProgress, type ProgressSample } from '../../bench/fleet-progress.js';
import { waitFor } from '../mqtt/wait-for.js';

describe('fleet bench progress', () => {
  it("reads a labelled gauge's value, not another label's or a longer name's", async () => {
    const registry = new Registry();
    const memory = new Gauge({ name: 'skiff_mqtt_broker_thread_memory_bytes', help: 'h', labelNames: ['kind'], registers: [registry] });
    memory.set({ kind: 'heap_used' }, 123);
    memory.set({ kind: 'external' }, 456);
    new Gauge({ name: 'nodejs_heap_size_used_bytes_other', help: 'h', registers: [registry] }).set(9);
    new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'h', registers: [registry] }).set(789);
    const text = await registry.metrics();
    expect(gaugeValue(text, 'skiff_mqtt_broker_thread_memory_bytes', '{kind="heap_used"}')).toBe(123);
    expect(gaugeValue(text, 'skiff_mqtt_broker_thread_memory_bytes', '{kind="external"}')).toBe(456);
    expect(gaugeValue(text, 'nodejs_heap_size_used_bytes')).toBe(789);
    expect(gaugeValue(text, 'absent_metric')).toBeNaN();
  });

  it('samples pods Running, pods/s and memory each period; a failed scrape leaves memory out', async () => {
    let running = 0;
    let scrapes = 0;
    const samples: ProgressSample[] = [];
    const progress = sampleProgress({
      periodMs: 20,
      running: () => (running += 10),
      rssMB: async () => 100,
      metrics: async () => (++scrapes === 2 ? undefined : `nodejs_heap_size_used_bytes ${64 * 2 ** 20}\n`),
      onSample: (s) => samples.push(s),
    });
    await waitFor('three samples', () => samples.length >= 3);
    const taken = progress.stop();
    expect(taken.slice(0, 3)).toEqual(samples.slice(0, 3));
    expect(samples[0]!.mainHeapUsedMB).toBe(64);
    expect(samples[1]!.mainHeapUsedMB).toBeUndefined();
    expect(samples[0]!.rssMB).toBe(100);
    expect(samples[2]!.running).toBeGreaterThan(samples[0]!.running);
    expect(samples[0]!.podsPerSecondSoFar).toBeGreaterThan(0);
  });
});
