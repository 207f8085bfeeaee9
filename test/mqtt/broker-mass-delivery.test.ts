// The embedded broker's message queue under a burst, as when thousands of agents drop at once: many
// messages emitted while deliveries are held in flight. With aedes' default queue (mqemitter,
// concurrency 100) the queue drained recursively, one stack frame set per message that completes at
// once, and the control plane died with "Maximum call stack size exceeded" (mcollina/mqemitter#204).
// The options the embedded broker gives aedes must deliver everything in order.
import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { AEDES_QUEUE_OPTIONS } from '../../control-plane/broker/embedded-broker.js';

type Done = () => void;
interface Emitter {
  on(topic: string, listener: (message: { topic: string }, done: Done) => void): void;
  emit(message: { topic: string }, cb?: (error?: Error) => void): void;
}

describe("the embedded broker's message queue", () => {
  it('delivers 50,000 messages emitted behind 150 held deliveries, in order, without overflowing the stack', async () => {
    const broker = await Aedes.createBroker(AEDES_QUEUE_OPTIONS);
    try {
      const mq = (broker as unknown as { mq: Emitter }).mq;
      const held: Done[] = [];
      mq.on('held/#', (_message, done) => { held.push(done); });
      const order: number[] = [];
      mq.on('burst/#', (message, done) => { order.push(Number(message.topic.slice(6))); done(); });
      for (let i = 0; i < 150; i++) mq.emit({ topic: 'held/x' });
      let completed = 0;
      for (let i = 0; i < 50_000; i++) mq.emit({ topic: i % 2 ? `burst/${i}` : 'nobody/x' }, () => { completed += 1; });
      expect(() => { for (const done of held) done(); }).not.toThrow();
      expect(completed).toBe(50_000);
      expect(order).toHaveLength(25_000);
      expect(order.every((n, i) => i === 0 || n > order[i - 1]!)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
  });
});
