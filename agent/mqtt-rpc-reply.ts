// The agent's half of request/response: one reply object per accepted request (numbered chunks,
// settled once, aborted at the deadline) and a log of request ids that turns redeliveries away.
import type { Clock, ClockTimer } from '../api/clock.js';
import { PROTOCOL_VERSION, type RpcResponseMessage } from '../api/mqtt/messages.js';
import type { RpcReply } from './agent-channel.js';

export class RpcDeadlineExceededError extends Error {
  override readonly name = 'RpcDeadlineExceededError';
  constructor(readonly id: string) {
    super(`rpc ${id} passed its deadline`);
  }
}

export class RpcCancelledError extends Error {
  override readonly name = 'RpcCancelledError';
  constructor(readonly id: string) {
    super(`rpc ${id} was cancelled by its caller`);
  }
}

export class AgentChannelClosedError extends Error {
  override readonly name = 'AgentChannelClosedError';
  constructor(message = 'agent channel closed') {
    super(message);
  }
}

export interface ActiveReply extends RpcReply {
  abort(reason: Error): void;
  /** One input message of the call (method `input`): applied in `seq` order, duplicates dropped. */
  input(seq: number, data: unknown): void;
}

/** Input messages held per call (out of order, or before the handler listens) before more are dropped. */
const MAX_HELD_INPUTS = 1024;

/** Orders a call's input messages by seq and hands them to its listener. */
class InputSequence {
  #next = 0;
  readonly #early = new Map<number, unknown>();
  readonly #ready: unknown[] = [];
  #listener: ((data: unknown) => void) | undefined;

  listen(listener: (data: unknown) => void): void {
    this.#listener = listener;
    for (const data of this.#ready.splice(0)) listener(data);
  }

  accept(seq: number, data: unknown): void {
    if (seq < this.#next || this.#early.has(seq) || this.#early.size + this.#ready.length >= MAX_HELD_INPUTS) return;
    this.#early.set(seq, data);
    while (this.#early.has(this.#next)) {
      const next = this.#early.get(this.#next);
      this.#early.delete(this.#next++);
      if (this.#listener) this.#listener(next);
      else this.#ready.push(next);
    }
  }
}

/** Builds a reply; `send` delivers one response message, `onSettled` runs once when it is over. */
export function createRpcReply(
  id: string, deadlineMs: number, clock: Clock, send: (message: RpcResponseMessage) => void, onSettled: () => void,
): ActiveReply {
  const controller = new AbortController();
  const inputs = new InputSequence();
  let seq = 0;
  let settled = false;
  let deadlineTimer: ClockTimer | undefined;
  const settle = () => {
    if (settled) return false;
    settled = true;
    deadlineTimer?.cancel();
    onSettled();
    return true;
  };
  const emit = (fields: Pick<RpcResponseMessage, 'done' | 'data' | 'error'>) => {
    const message: RpcResponseMessage = { v: PROTOCOL_VERSION, id, seq: seq++, done: fields.done };
    if (fields.data !== undefined) message.data = fields.data;
    if (fields.error !== undefined) message.error = fields.error;
    send(message);
  };
  deadlineTimer = clock.setTimeout(() => {
    if (settle()) controller.abort(new RpcDeadlineExceededError(id));
  }, Math.max(0, deadlineMs - clock.now()));
  return {
    signal: controller.signal,
    data(chunk) {
      if (!settled) emit({ done: false, data: chunk });
    },
    done(data) {
      if (!settled) {
        emit({ done: true, data });
        settle();
      }
    },
    error(code, message) {
      if (!settled) {
        emit({ done: true, error: { code, message } });
        settle();
      }
    },
    abort(reason) {
      if (settle()) controller.abort(reason);
    },
    onInput(listener) {
      inputs.listen(listener);
    },
    input(inputSeq, data) {
      if (!settled) inputs.accept(inputSeq, data);
    },
  };
}

/** Remembers request ids until their deadline (a redelivery after that is dropped as late anyway). */
export class RpcRequestLog {
  readonly #deadlines = new Map<string, number>();
  constructor(private readonly clock: Clock, private readonly maxIds = 10_000) {}

  /** True the first time an id is seen; false for a duplicate. */
  admit(id: string, deadlineMs: number): boolean {
    if (this.#deadlines.has(id)) return false;
    if (this.#deadlines.size >= this.maxIds) this.#forgetExpired();
    // Still full of live ids: forget the oldest (insertion order) rather than grow without bound.
    if (this.#deadlines.size >= this.maxIds) this.#deadlines.delete(this.#deadlines.keys().next().value!);
    this.#deadlines.set(id, deadlineMs);
    return true;
  }

  #forgetExpired(): void {
    const now = this.clock.now();
    for (const [id, deadline] of this.#deadlines) if (deadline < now) this.#deadlines.delete(id);
  }
}
