// EtcdCalls alone (fake calls, fake clock): what is retried, how a write with a lost answer is
// settled, and that the deadline ends in StoreUnavailableError. The real-etcd side is in
// etcd-store.test.ts and test/control-plane/api/etcd-unavailable.test.ts.
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { EtcdCalls, type Settled } from '../../../control-plane/store/etcd/etcd-calls.js';
import { KeyExistsError, StoreUnavailableError } from '../../../control-plane/store/store.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup(timeoutMs = 1_000) {
  const clock = new FakeClock();
  const calls = new EtcdCalls({ timeoutMs, initialDelayMs: 50, maxDelayMs: 200, clock });
  /** Runs the clock on while `promise` waits on a backoff timer. */
  const settle = async <T>(promise: Promise<T>): Promise<T> => {
    let isDone = false;
    void promise.then(() => (isDone = true), () => (isDone = true));
    for (let i = 0; i < 1_000 && !isDone; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(10);
    }
    return promise;
  };
  return { clock, calls, settle };
}

const dropped = () => new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped');

describe('EtcdCalls', () => {
  it('retries a read after transient faults until it succeeds', async () => {
    const { calls, settle } = setup();
    let attempts = 0;
    const result = await settle(calls.read('get k', async () => {
      if (++attempts < 3) throw dropped();
      return 'value';
    }));
    expect({ result, attempts }).toEqual({ result: 'value', attempts: 3 });
  });

  it('does not retry an error that is not transient', async () => {
    const { calls, settle } = setup();
    let attempts = 0;
    await expect(settle(calls.read('get k', async () => {
      attempts++;
      throw new KeyExistsError('k');
    }))).rejects.toBeInstanceOf(KeyExistsError);
    expect(attempts).toBe(1);
  });

  it('ends in StoreUnavailableError at the deadline, with the last fault as its cause', async () => {
    const { calls, settle } = setup(500);
    let attempts = 0;
    const error = await settle(calls.read('get k', async () => {
      attempts++;
      throw new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED');
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(GRPCDeadlineExceededError);
    expect(attempts).toBeGreaterThan(2);
  });

  it('settles a write whose answer was lost by reading, and never sends it again once it applied', async () => {
    const { calls, settle } = setup();
    let sent = 0;
    const result = await settle(calls.write('create k', async () => {
      sent++;
      throw dropped(); // applied, but the answer never came
    }, async (): Promise<Settled<number>> => ({ done: 7 })));
    expect({ result, sent }).toEqual({ result: 7, sent: 1 });
  });

  it('sends a write again when reading shows it did not apply, and passes on what the read decides', async () => {
    const { calls, settle } = setup();
    let sent = 0;
    const result = await settle(calls.write('create k', async () => {
      if (++sent === 1) throw dropped();
      return 9;
    }, async (): Promise<Settled<number>> => 'retry'));
    expect({ result, sent }).toEqual({ result: 9, sent: 2 });
    await expect(settle(calls.write('create k', async () => {
      throw dropped();
    }, async () => {
      throw new KeyExistsError('k');
    }))).rejects.toBeInstanceOf(KeyExistsError);
  });
});
