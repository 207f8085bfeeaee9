// Pending request/response calls to agents: orders responses by `seq`, streams `data` chunks, and
// settles each call exactly once (done, error, timeout, abort or stop), cleaning up its timer.
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { RpcResponseMessage } from '../../api/mqtt/messages.js';
import { NodeCallError, NodeCallTimeoutError, type CallOptions } from './node-channel.js';

/** Out-of-order responses held per call before the call is failed as broken. */
const MAX_BUFFERED_RESPONSES = 1024;

interface PendingCall {
  node: string;
  method: string;
  onData: ((data: unknown) => void) | undefined;
  nextSeq: number;
  early: Map<number, RpcResponseMessage>;
  resolve(data: unknown): void;
  reject(error: unknown): void;
}

export type RpcResponseOutcome = 'accepted' | 'unknown-call' | 'wrong-node';

export class RpcCallTable {
  readonly #calls = new Map<string, PendingCall>();
  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#calls.size;
  }

  /** Registers a call; the promise settles on its final response, timeout, abort or cancelAll(). */
  begin(id: string, node: string, method: string, options: CallOptions): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      let timer: ClockTimer | undefined;
      const onAbort = () => settle(() => reject(options.signal?.reason));
      const settle = (finish: () => void) => {
        if (!this.#calls.delete(id)) return;
        timer?.cancel();
        options.signal?.removeEventListener('abort', onAbort);
        finish();
      };
      this.#calls.set(id, {
        node,
        method,
        onData: options.onData,
        nextSeq: 0,
        early: new Map(),
        resolve: (data) => settle(() => resolve(data)),
        reject: (error) => settle(() => reject(error)),
      });
      timer = this.clock.setTimeout(
        () => settle(() => reject(new NodeCallTimeoutError(node, method, options.timeoutMs))),
        options.timeoutMs,
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Fails one call (e.g. its request could not be published). */
  fail(id: string, error: unknown): void {
    this.#calls.get(id)?.reject(error);
  }

  /** Feeds one validated response from `node`; responses are applied strictly in `seq` order. */
  handle(node: string, response: RpcResponseMessage): RpcResponseOutcome {
    const call = this.#calls.get(response.id);
    if (!call) return 'unknown-call';
    if (call.node !== node) return 'wrong-node';
    if (response.seq < call.nextSeq) return 'accepted'; // a duplicate (QoS 1 redelivery)
    call.early.set(response.seq, response);
    if (call.early.size > MAX_BUFFERED_RESPONSES) {
      call.reject(new NodeCallError(node, call.method, 502, `response sequence broken at seq ${call.nextSeq}`));
      return 'accepted';
    }
    for (let next = call.early.get(call.nextSeq); next; next = call.early.get(call.nextSeq)) {
      call.early.delete(call.nextSeq);
      call.nextSeq += 1;
      if (!this.#apply(call, next)) break;
    }
    return 'accepted';
  }

  cancelAll(error: unknown): void {
    for (const call of [...this.#calls.values()]) call.reject(error);
  }

  /** Returns false once the call is settled. */
  #apply(call: PendingCall, response: RpcResponseMessage): boolean {
    if (response.error) {
      call.reject(new NodeCallError(call.node, call.method, response.error.code, response.error.message));
      return false;
    }
    if (response.done) {
      call.resolve(response.data);
      return false;
    }
    if (response.data !== undefined) call.onData?.(response.data);
    return true;
  }
}
