import { describe, expect, it } from 'vitest';
import type { RpcResponseMessage } from '../../api/mqtt/messages.js';
import { NodeCallError, NodeCallTimeoutError } from '../../control-plane/node-channel/node-channel.js';
import { RpcCallTable } from '../../control-plane/node-channel/rpc-call-table.js';
import { FakeClock } from '../support/fake-clock.js';

const response = (seq: number, fields: Partial<RpcResponseMessage> = {}): RpcResponseMessage => ({ v: 1, id: 'c1', seq, done: false, ...fields });

describe('rpc call table', () => {
  it('applies responses in seq order whatever order they arrive in', async () => {
    const table = new RpcCallTable(new FakeClock());
    const chunks: unknown[] = [];
    const result = table.begin('c1', 'n1', 'logs', { timeoutMs: 1000, onData: (c) => chunks.push(c) });
    table.handle('n1', response(2, { done: true, data: 'end' }));
    table.handle('n1', response(1, { data: 'b' }));
    expect(chunks).toEqual([]);
    table.handle('n1', response(0, { data: 'a' }));
    await expect(result).resolves.toBe('end');
    expect(chunks).toEqual(['a', 'b']);
    expect(table.size).toBe(0);
  });

  it('ignores redelivered chunks and refuses responses from another node', async () => {
    const table = new RpcCallTable(new FakeClock());
    const chunks: unknown[] = [];
    const result = table.begin('c1', 'n1', 'logs', { timeoutMs: 1000, onData: (c) => chunks.push(c) });
    table.handle('n1', response(0, { data: 'a' }));
    table.handle('n1', response(0, { data: 'a' }));
    expect(table.handle('n2', response(1, { done: true }))).toBe('wrong-node');
    table.handle('n1', response(1, { done: true, data: 1 }));
    await expect(result).resolves.toBe(1);
    expect(chunks).toEqual(['a']);
  });

  it('rejects with NodeCallError carrying the agent code', async () => {
    const table = new RpcCallTable(new FakeClock());
    const result = table.begin('c1', 'n1', 'exec', { timeoutMs: 1000 });
    table.handle('n1', response(0, { done: true, error: { code: 403, message: 'no' } }));
    await expect(result).rejects.toEqual(new NodeCallError('n1', 'exec', 403, 'no'));
  });

  it('times out on the injected clock and forgets the call', async () => {
    const clock = new FakeClock();
    const table = new RpcCallTable(clock);
    const result = table.begin('c1', 'n1', 'logs', { timeoutMs: 1000 });
    clock.advance(999);
    expect(table.size).toBe(1);
    clock.advance(1);
    await expect(result).rejects.toBeInstanceOf(NodeCallTimeoutError);
    expect(table.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(table.handle('n1', response(0, { done: true }))).toBe('unknown-call');
  });

  it('rejects at once for an already aborted signal and cleans up after an abort', async () => {
    const clock = new FakeClock();
    const table = new RpcCallTable(clock);
    await expect(table.begin('c0', 'n1', 'logs', { timeoutMs: 1000, signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early');
    const controller = new AbortController();
    const result = table.begin('c1', 'n1', 'logs', { timeoutMs: 1000, signal: controller.signal });
    controller.abort(new Error('late'));
    await expect(result).rejects.toThrow('late');
    expect(table.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
