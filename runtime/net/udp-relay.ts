// Main-thread side of a guest run's UDP sockets (decision 054): binds the pod's UDP ports for the
// guest (PodNetworkPorts.bindUdp), routes what it sends (PodNetworkPorts.sendDatagram) and posts
// the datagrams sent to its ports back to its worker, waking it. Each socket's receive queue is
// bounded by its shared counters (udp-messages.ts): a datagram that does not fit is dropped here
// and counted, before it costs the worker anything. When the run ends its ports are released.
import { PodNetworkError, type PodNetworkPorts } from '../pod-runtime.js';
import type { NetReply } from './net-messages.js';
import {
  UDP_DROPPED, UDP_LIMIT, UDP_QUEUED, UDP_UNSENT, type DatagramMessage, type DatagramReceiver, type UdpCall,
} from './udp-messages.js';

/** UDP sockets one guest run may have bound at once. */
export const MAX_UDP_SOCKETS_PER_RUN = 256;

interface BoundSocket {
  counters: Int32Array;
  receive: DatagramReceiver;
}

export class UdpRelay {
  readonly #bound = new Map<number, BoundSocket>();
  #closed = false;
  /** Datagrams dropped by sockets of this run that are gone (their counters went with them). */
  #droppedBefore = 0;

  constructor(
    private readonly network: PodNetworkPorts,
    private readonly post: (message: NetReply | DatagramMessage) => void,
    private readonly wake: () => void,
  ) {}

  /** One UDP call of the guest. */
  handle(call: UdpCall): void {
    if (this.#closed) return;
    if (call.kind === 'udp-bind') return this.#bind(call.id, Number(call.port), call.counters);
    if (call.kind === 'udp-unbind') return this.#unbind(Number(call.port));
    void this.#send(call);
  }

  /** Datagrams the run's sockets dropped because their queue was full. */
  get dropped(): number {
    let total = this.#droppedBefore;
    for (const socket of this.#bound.values()) total += Atomics.load(socket.counters, UDP_DROPPED);
    return total;
  }

  /** The run ended: its ports go back to the pod. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const port of [...this.#bound.keys()]) this.#unbind(port);
  }

  #bind(id: number, port: number, buffer: unknown): void {
    const fail = (error: PodNetworkError) => this.#reply({ id, error: { code: error.code, message: error.message } });
    if (!this.network.bindUdp) return fail(new PodNetworkError('HTTP-request-denied', 'this container has no pod network'));
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 16 || !Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(new PodNetworkError('internal-error', 'bad udp bind'));
    }
    if (this.#bound.size >= MAX_UDP_SOCKETS_PER_RUN) {
      return fail(new PodNetworkError('connection-limit-reached', `this container holds ${MAX_UDP_SOCKETS_PER_RUN} UDP sockets`));
    }
    const counters = new Int32Array(buffer, 0, 4);
    let bound = -1;
    const receive: DatagramReceiver = (from, data) => {
      if (this.#closed || this.#bound.get(bound)?.receive !== receive) return false;
      if (Atomics.load(counters, UDP_QUEUED) + data.length > Atomics.load(counters, UDP_LIMIT)) {
        Atomics.add(counters, UDP_DROPPED, 1);
        return false;
      }
      Atomics.add(counters, UDP_QUEUED, data.length);
      this.post({ kind: 'datagram', port: bound, from, data });
      this.wake();
      return true;
    };
    const answer = this.network.bindUdp(port, receive);
    if (answer !== 'address-in-use') {
      bound = answer;
      this.#bound.set(bound, { counters, receive });
    }
    this.#reply({ id, bound: answer === 'address-in-use' ? -1 : answer });
  }

  #unbind(port: number): void {
    const socket = this.#bound.get(port);
    if (!socket) return;
    this.#bound.delete(port);
    this.#droppedBefore += Atomics.load(socket.counters, UDP_DROPPED);
    this.network.unbindUdp?.(port, socket.receive);
  }

  async #send(call: Extract<UdpCall, { kind: 'udp-send' }>): Promise<void> {
    const socket = this.#bound.get(Number(call.localPort));
    const data = call.data instanceof Uint8Array ? call.data : new Uint8Array(0);
    let error: PodNetworkError | undefined;
    try {
      if (!socket) throw new PodNetworkError('internal-error', `udp port ${call.localPort} is not bound`);
      if (!this.network.sendDatagram) throw new PodNetworkError('HTTP-request-denied', 'this container has no pod network');
      await this.network.sendDatagram(Number(call.localPort), String(call.host), Number(call.port), data);
    } catch (failure) {
      error = failure instanceof PodNetworkError ? failure : new PodNetworkError('internal-error', (failure as Error)?.message ?? String(failure));
    }
    if (socket) Atomics.sub(socket.counters, UDP_UNSENT, data.length);
    if (this.#closed) return;
    if (call.wait) this.#reply(error ? { id: call.id, error: { code: error.code, message: error.message } } : { id: call.id, sent: true });
    else this.wake(); // room in the send window
  }

  #reply(reply: NetReply): void {
    if (this.#closed) return;
    this.post(reply);
    this.wake();
  }
}
