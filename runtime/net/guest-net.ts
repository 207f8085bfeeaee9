// Worker side of the pod network: a guest's outgoing wasi:http request is posted to the runtime
// on the run's network port, and the guest's thread blocks (Atomics.wait on the control block's
// net counter, no busy waiting) until the answer is there; host imports are synchronous (no JSPI in
// Node 20). A stop request ends the wait within 100 ms and unwinds the guest. TCP connects are
// posted the same way but not waited for (the socket's finish-connect looks for the answer), and
// connections to the guest's listeners arrive on the port unasked: both are kept in an inbox.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HttpRequest, HttpResponse } from '../pod-runtime.js';
import type { GuestControl } from '../wasi/guest-control.js';
import { monotonicNowNs } from '../wasi/guest-control.js';
import type { WakeSignal } from '../wasi/io.js';
import { CONTROL_NET_INDEX } from '../worker/guest-messages.js';
import { RingEndpoint, type StreamEnd, type Waker } from './byte-ring.js';
import { GuestUdpChannel, type GuestUdp } from './guest-udp.js';
import type { NetCall, NetFailure, NetIncoming, NetReply } from './net-messages.js';
import type { DatagramMessage } from './udp-messages.js';

/** The pod network as a guest's host functions see it: blocking calls. */
export interface GuestNet {
  /** The response, or why there is none (a wasi:http error-code). */
  httpRequest(request: HttpRequest, timeoutMs: number): HttpResponse | NetFailure;
  /** The IP addresses a name has in the pod's DNS (`DNS-error` when it has none). */
  resolve(name: string): string[] | NetFailure;
  /** Starts a TCP connection to `host` (an IP literal) and `port`; its answer comes by `connected(call)`. */
  connect(host: string, port: number, localPort: number): number;
  /** The answer to a connect call: the stream, why not, or undefined while it is on its way. */
  connected(call: number): StreamEnd | NetFailure | undefined;
  /** The guest listens on `port`: connections to it are kept until accepted (others are reset). */
  listen(port: number): void;
  /** The next connection waiting for the guest's listener on `port`. */
  incoming(port: number, take: boolean): StreamEnd | undefined;
  /** The guest's listener on `port` is gone: connections waiting for it are refused (reset). */
  stopAccepting(port: number): StreamEnd[];
  /** UDP sockets (guest-udp.ts). */
  readonly udp?: GuestUdp;
  /** Bumped whenever something arrives or a peer changes a connection's state. */
  readonly signal: WakeSignal;
  /** The guest's wake word, as peers are told it. */
  readonly waker: Waker;
}

const STOP_CHECK_MS = 100;

export class BlockingGuestNet implements GuestNet {
  #nextId = 1;
  readonly #replies = new Map<number, NetReply>();
  readonly #incoming = new Map<number, StreamEnd[]>();
  readonly #listening = new Set<number>();
  readonly signal: WakeSignal;
  readonly waker: Waker;
  readonly udp: GuestUdpChannel;

  constructor(
    private readonly port: MessagePort,
    private readonly control: Int32Array,
    private readonly guest: GuestControl,
  ) {
    this.waker = { buffer: control.buffer as SharedArrayBuffer, index: CONTROL_NET_INDEX };
    this.signal = {
      current: () => Atomics.load(this.control, CONTROL_NET_INDEX),
      wait: (seen, deadlineNs) => this.#wait(seen, deadlineNs),
    };
    this.udp = new GuestUdpChannel((call) => this.#call(call) as { bound?: number; error?: NetFailure }, (call) => this.port.postMessage(call), () => this.#pump());
  }

  httpRequest(request: HttpRequest, timeoutMs: number): HttpResponse | NetFailure {
    const reply = this.#call({ id: this.#nextId++, kind: 'http', request, timeoutMs });
    if ('response' in reply) return reply.response;
    return 'error' in reply ? reply.error : { code: 'internal-error', message: 'unexpected answer' };
  }

  resolve(name: string): string[] | NetFailure {
    const reply = this.#call({ id: this.#nextId++, kind: 'resolve', name });
    if ('addresses' in reply) return reply.addresses;
    return 'error' in reply ? reply.error : { code: 'internal-error', message: 'unexpected answer' };
  }

  connect(host: string, port: number, localPort: number): number {
    const id = this.#nextId++;
    this.port.postMessage({ id, kind: 'connect', host, port, localPort } satisfies NetCall);
    return id;
  }

  connected(call: number): StreamEnd | NetFailure | undefined {
    this.#pump();
    const reply = this.#replies.get(call);
    if (!reply) return undefined;
    this.#replies.delete(call);
    if ('stream' in reply) return reply.stream;
    return 'error' in reply ? reply.error : { code: 'internal-error', message: 'unexpected answer' };
  }

  listen(port: number): void {
    this.#listening.add(port);
  }

  incoming(port: number, take: boolean): StreamEnd | undefined {
    this.#pump();
    const queue = this.#incoming.get(port);
    const next = take ? queue?.shift() : queue?.[0];
    if (queue?.length === 0) this.#incoming.delete(port);
    return next;
  }

  stopAccepting(port: number): StreamEnd[] {
    this.#listening.delete(port);
    this.#pump();
    const waiting = this.#incoming.get(port) ?? [];
    this.#incoming.delete(port);
    return waiting;
  }

  #call(call: NetCall): NetReply {
    this.port.postMessage(call);
    for (;;) {
      // read the counter first: an answer posted after the pump below bumps it, so the wait returns at once
      const seen = Atomics.load(this.control, CONTROL_NET_INDEX);
      this.#pump();
      const reply = this.#replies.get(call.id);
      if (reply) {
        this.#replies.delete(call.id);
        return reply;
      }
      this.#wait(seen, monotonicNowNs() + BigInt(STOP_CHECK_MS) * 1_000_000n);
    }
  }

  /** Takes every message waiting on the port into the inbox. */
  #pump(): void {
    for (let received = receiveMessageOnPort(this.port); received; received = receiveMessageOnPort(this.port)) {
      const message = received.message as NetReply | NetIncoming | DatagramMessage;
      if ('kind' in message && message.kind === 'datagram') {
        this.udp.deliver(message);
      } else if ('kind' in message && message.kind === 'incoming') {
        if (!this.#listening.has(message.port)) {
          new RingEndpoint(message.stream).reset(); // its listener is gone
          continue;
        }
        const queue = this.#incoming.get(message.port) ?? [];
        queue.push(message.stream);
        this.#incoming.set(message.port, queue);
      } else if ('id' in message) {
        this.#replies.set(message.id, message);
      }
    }
  }

  #wait(seen: number, deadlineNs: bigint): void {
    this.guest.checkStop();
    const remainingMs = Number(deadlineNs - monotonicNowNs()) / 1e6;
    if (remainingMs <= 0) return;
    Atomics.wait(this.control, CONTROL_NET_INDEX, seen, Math.min(remainingMs, STOP_CHECK_MS));
    this.guest.checkStop();
  }
}
