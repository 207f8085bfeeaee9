import { describe, expect, it } from 'vitest';
import type { RpcResponseMessage } from '../../api/mqtt/messages.js';
import { createRpcReply, RpcDeadlineExceededError, RpcRequestLog } from '../../agent/mqtt-rpc-reply.js';
import { FakeClock } from '../support/fake-clock.js';

describe('rpc reply', () => {
  it('numbers chunks, ends at done and ignores anything after', () => {
    const clock = new FakeClock();
    const sent: RpcResponseMessage[] = [];
    let settled = 0;
    const reply = createRpcReply('r1', clock.now() + 1000, clock, (m) => sent.push(m), () => { settled += 1; });
    reply.data('a');
    reply.done('z');
    reply.data('late');
    reply.error(500, 'late');
    expect(sent).toEqual([
      { v: 1, id: 'r1', seq: 0, done: false, data: 'a' },
      { v: 1, id: 'r1', seq: 1, done: true, data: 'z' },
    ]);
    expect(settled).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts its signal at the deadline and sends nothing afterwards', () => {
    const clock = new FakeClock();
    const sent: RpcResponseMessage[] = [];
    const reply = createRpcReply('r1', clock.now() + 1000, clock, (m) => sent.push(m), () => {});
    clock.advance(1000);
    expect(reply.signal.aborted).toBe(true);
    expect(reply.signal.reason).toBeInstanceOf(RpcDeadlineExceededError);
    reply.done('too late');
    expect(sent).toEqual([]);
  });
});

describe('rpc reply input', () => {
  it('hands input to the handler in seq order, held until it listens, duplicates and stale ones dropped', () => {
    const clock = new FakeClock();
    const reply = createRpcReply('r1', clock.now() + 1000, clock, () => {}, () => {});
    reply.input(1, 'b');
    reply.input(0, 'a');
    const got: unknown[] = [];
    reply.onInput((d) => got.push(d));
    reply.input(0, 'a again');
    reply.input(3, 'd');
    reply.input(2, 'c');
    reply.input(3, 'd again');
    expect(got).toEqual(['a', 'b', 'c', 'd']);
  });

  it('drops input after the call settled, and holds a bounded number out of order', () => {
    const clock = new FakeClock();
    const reply = createRpcReply('r1', clock.now() + 1000, clock, () => {}, () => {});
    const got: unknown[] = [];
    reply.onInput((d) => got.push(d));
    for (let seq = 1; seq <= 5000; seq++) reply.input(seq, seq); // seq 0 never comes
    reply.input(0, 0);
    expect(got.length).toBeLessThanOrEqual(1025);
    reply.done();
    reply.input(got.length, 'late');
    expect(got).not.toContain('late');
  });
});

describe('rpc request log', () => {
  it('admits an id once and forgets expired ids when full', () => {
    const clock = new FakeClock();
    const log = new RpcRequestLog(clock, 2);
    expect(log.admit('a', clock.now() + 10)).toBe(true);
    expect(log.admit('a', clock.now() + 10)).toBe(false);
    expect(log.admit('b', clock.now() + 1000)).toBe(true);
    clock.advance(100);
    expect(log.admit('c', clock.now() + 1000)).toBe(true); // 'a' expired and made room
    expect(log.admit('b', clock.now() + 1000)).toBe(false);
  });
});
