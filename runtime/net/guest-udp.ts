// Worker side of a guest's UDP sockets (decision 054): binds and sends go to the runtime on the
// run's network port (udp-messages.ts); datagrams for the guest's bound ports arrive there unasked
// and wait in each socket's queue until the guest receives them. The queue's bytes are counted in
// the socket's shared counters, which the runtime's relay checks before it posts one more: a full
// queue drops there, never here.
import type { NetFailure } from './net-messages.js';
import { UDP_QUEUED, UDP_UNSENT, type DatagramMessage, type DatagramSource, type UdpCall } from './udp-messages.js';

/** The pod network's UDP as a guest's sockets see it. */
export interface GuestUdp {
  /** Binds `port` of the pod (0: ephemeral) for a socket with these counters: the port, or why not. */
  bind(port: number, counters: Int32Array): number | 'address-in-use' | NetFailure;
  /** The socket on `port` is gone: what waits for it is discarded. */
  unbind(port: number): void;
  /** Sends one datagram; with `wait`, the answer (undefined: routed), else undefined at once. */
  send(localPort: number, host: string, port: number, data: Uint8Array, wait: boolean): NetFailure | undefined;
  /** Up to `max` datagrams waiting for `port` (taken). */
  take(port: number, max: number): Array<{ from: DatagramSource; data: Uint8Array }>;
  /** Whether a datagram waits for `port`. */
  pending(port: number): boolean;
}

interface Bound {
  counters: Int32Array;
  queue: DatagramMessage[];
  head: number;
}

/** GuestUdp over a run's network port: `call` waits for the answer, `post` does not, `pump` takes what arrived. */
export class GuestUdpChannel implements GuestUdp {
  readonly #bound = new Map<number, Bound>();
  #nextId = -1; // negative ids: never one of the other calls'

  constructor(
    private readonly call: (call: UdpCall) => { bound?: number; error?: NetFailure },
    private readonly post: (call: UdpCall) => void,
    private readonly pump: () => void,
  ) {}

  bind(port: number, counters: Int32Array): number | 'address-in-use' | NetFailure {
    const reply = this.call({ id: this.#nextId--, kind: 'udp-bind', port, counters: counters.buffer as SharedArrayBuffer });
    if (reply.error) return reply.error;
    if (reply.bound === -1) return 'address-in-use';
    if (typeof reply.bound !== 'number') return { code: 'internal-error', message: 'unexpected answer' };
    this.#bound.set(reply.bound, { counters, queue: [], head: 0 });
    return reply.bound;
  }

  unbind(port: number): void {
    const bound = this.#bound.get(port);
    if (!bound) return;
    this.#bound.delete(port);
    this.post({ id: this.#nextId--, kind: 'udp-unbind', port });
  }

  send(localPort: number, host: string, port: number, data: Uint8Array, wait: boolean): NetFailure | undefined {
    const counters = this.#bound.get(localPort)?.counters;
    if (counters) Atomics.add(counters, UDP_UNSENT, data.length);
    const message: UdpCall = { id: this.#nextId--, kind: 'udp-send', localPort, host, port, data, wait };
    if (!wait) {
      this.post(message);
      return undefined;
    }
    return this.call(message).error;
  }

  take(port: number, max: number): Array<{ from: DatagramSource; data: Uint8Array }> {
    this.pump();
    const bound = this.#bound.get(port);
    if (!bound) return [];
    const out: Array<{ from: DatagramSource; data: Uint8Array }> = [];
    let bytes = 0;
    while (out.length < max && bound.head < bound.queue.length) {
      const next = bound.queue[bound.head++]!;
      out.push({ from: next.from, data: next.data });
      bytes += next.data.length;
    }
    if (bound.head === bound.queue.length) {
      bound.queue = [];
      bound.head = 0;
    }
    if (bytes > 0) Atomics.sub(bound.counters, UDP_QUEUED, bytes);
    return out;
  }

  pending(port: number): boolean {
    this.pump();
    const bound = this.#bound.get(port);
    return bound !== undefined && bound.head < bound.queue.length;
  }

  /** A datagram arrived (the pump): queued for its socket, or discarded when it has none. */
  deliver(message: DatagramMessage): void {
    const bound = this.#bound.get(message.port);
    if (!bound) return; // unbound meanwhile: its counters went with it
    bound.queue.push(message);
  }
}
