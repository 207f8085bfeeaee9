// Main-thread side of a guest run's network port: carries the guest's calls to the pod network
// (PodNetworkPorts.httpRequest, resolve, connect), posts each answer back and wakes the guest's
// thread. For TCP it is also the way in: the acceptor of each port the guest listens on posts new
// connections to the guest. It remembers the connection ends it handed to the guest: when the run
// ends, however it ends, the ones still open are reset, so no peer waits for a guest that is gone.
import type { MessagePort } from 'node:worker_threads';
import { PodNetworkError, type PodNetworkPorts } from '../pod-runtime.js';
import { CONTROL_NET_INDEX } from '../worker/guest-messages.js';
import { createConnectionBuffer, RingEndpoint, type StreamAcceptor, type StreamEnd, type Waker } from './byte-ring.js';
import type { NetCall, NetIncoming, NetReply } from './net-messages.js';
import { isUdpCall } from './udp-messages.js';
import { UdpRelay } from './udp-relay.js';

/** Open ends handed to the guest are checked for being finished (and forgotten) past this many. */
const PRUNE_AT = 64;
/**
 * Connections one guest run may hold open (connected, accepted, or waiting in its accept queue):
 * each holds a buffer of 2 x RING_BYTES, so a pod flooding another's listener is refused here.
 */
export const MAX_CONNECTIONS_PER_RUN = 256;

export class NetRelay {
  #closed = false;
  #control: Int32Array | undefined;
  readonly #ends = new Set<RingEndpoint>();
  #pruneAt = PRUNE_AT;
  /** The run's UDP sockets (udp-relay.ts). */
  readonly udp: UdpRelay;

  constructor(
    private readonly port: MessagePort,
    private readonly network: PodNetworkPorts,
  ) {
    this.udp = new UdpRelay(network, (message) => this.port.postMessage(message), () => this.#wake());
    port.on('message', (call: NetCall) => (isUdpCall(call) ? this.udp.handle(call) : void this.#carry(call)));
  }

  /** The run's control block, whose net counter wakes the guest. */
  attach(control: Int32Array): void {
    this.#control = control;
  }

  /** The guest's wake word, as its peers are told it. */
  get waker(): Waker | undefined {
    return this.#control ? { buffer: this.#control.buffer as SharedArrayBuffer, index: CONTROL_NET_INDEX } : undefined;
  }

  /** Hands connections to the guest's listener on `port`. */
  acceptor(port: number): StreamAcceptor {
    return (end) => {
      const waker = this.waker;
      if (this.#closed || !waker || !this.#room()) return undefined;
      this.#track(end);
      this.port.postMessage({ kind: 'incoming', port, stream: end } satisfies NetIncoming);
      this.#wake();
      return waker;
    };
  }

  /** The run ended: answers still on their way are dropped, open connections reset. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.udp.close();
    this.port.close();
    for (const end of this.#ends) end.reset();
    this.#ends.clear();
  }

  async #carry(call: NetCall): Promise<void> {
    let reply: NetReply;
    try {
      if (call?.kind === 'resolve' && this.network.resolve) {
        reply = { id: call.id, addresses: await this.network.resolve(String(call.name)) };
      } else if (call?.kind === 'http' && this.network.httpRequest) {
        reply = { id: call.id, response: await this.network.httpRequest(call.request, { timeoutMs: call.timeoutMs }) };
      } else if (call?.kind === 'connect' && this.network.connect) {
        reply = { id: call.id, stream: await this.#connect(String(call.host), Number(call.port), Number(call.localPort)) };
      } else {
        throw new PodNetworkError('HTTP-request-denied', 'this container has no pod network');
      }
    } catch (error) {
      reply = error instanceof PodNetworkError
        ? { id: call.id, error: { code: error.code, message: error.message } }
        : { id: call.id, error: { code: 'internal-error', message: (error as Error)?.message ?? String(error) } };
    }
    if (this.#closed) {
      if ('stream' in reply) new RingEndpoint(reply.stream).reset();
      return;
    }
    this.port.postMessage(reply);
    this.#wake();
  }

  /** A new connection: the far end goes to the listener, this end to the guest. */
  async #connect(host: string, port: number, localPort: number): Promise<StreamEnd> {
    if (!this.#room()) throw new PodNetworkError('connection-limit-reached', `this container holds ${MAX_CONNECTIONS_PER_RUN} connections`);
    const accept = await this.network.connect!(host, port, localPort);
    const waker = this.waker;
    if (this.#closed || !waker) {
      accept.abandon?.(); // a stream opened meanwhile (another node, outside) must not outlive the guest
      throw new PodNetworkError('connection-refused', 'the connecting guest ended');
    }
    const buffer = createConnectionBuffer();
    const listener = accept({ buffer, side: 1, peer: waker });
    if (!listener) throw new PodNetworkError('connection-refused', `dial tcp ${host}:${port}: connect: connection refused`);
    const end: StreamEnd = { buffer, side: 0, peer: listener };
    this.#track(end);
    return end;
  }

  #track(end: StreamEnd): void {
    this.#ends.add(new RingEndpoint(end));
    if (this.#ends.size >= this.#pruneAt) this.#prune();
  }

  /** Another connection fits under MAX_CONNECTIONS_PER_RUN. */
  #room(): boolean {
    if (this.#ends.size >= MAX_CONNECTIONS_PER_RUN) this.#prune();
    return this.#ends.size < MAX_CONNECTIONS_PER_RUN;
  }

  #prune(): void {
    for (const tracked of this.#ends) if (tracked.finished) this.#ends.delete(tracked);
    this.#pruneAt = Math.max(PRUNE_AT, this.#ends.size * 2);
  }

  #wake(): void {
    if (!this.#control) return;
    Atomics.add(this.#control, CONTROL_NET_INDEX, 1);
    Atomics.notify(this.#control, CONTROL_NET_INDEX);
  }
}
