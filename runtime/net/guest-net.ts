// Worker side of the pod network: a guest's outgoing wasi:http request is posted to the runtime
// on the run's network port, and the guest's thread blocks (Atomics.wait on the control block's
// net counter, no busy waiting) until the answer is there; host imports are synchronous (no JSPI in
// Node 20). A stop request ends the wait within 100 ms and unwinds the guest.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HttpRequest, HttpResponse } from '../pod-runtime.js';
import type { GuestControl } from '../wasi/guest-control.js';
import { CONTROL_NET_INDEX } from '../worker/guest-messages.js';
import type { NetCall, NetFailure, NetReply } from './net-messages.js';

/** The pod network as a guest's host functions see it: blocking calls. */
export interface GuestNet {
  /** The response, or why there is none (a wasi:http error-code). */
  httpRequest(request: HttpRequest, timeoutMs: number): HttpResponse | NetFailure;
  /** The IP addresses a name has in the pod's DNS (`DNS-error` when it has none). */
  resolve(name: string): string[] | NetFailure;
}

const STOP_CHECK_MS = 100;

export class BlockingGuestNet implements GuestNet {
  #nextId = 1;
  constructor(
    private readonly port: MessagePort,
    private readonly control: Int32Array,
    private readonly guest: GuestControl,
  ) {}

  httpRequest(request: HttpRequest, timeoutMs: number): HttpResponse | NetFailure {
    const call: NetCall = { id: this.#nextId++, kind: 'http', request, timeoutMs };
    this.port.postMessage(call);
    const reply = this.#await(call.id);
    if ('response' in reply) return reply.response;
    return 'error' in reply ? reply.error : { code: 'internal-error', message: 'unexpected answer' };
  }

  resolve(name: string): string[] | NetFailure {
    const call: NetCall = { id: this.#nextId++, kind: 'resolve', name };
    this.port.postMessage(call);
    const reply = this.#await(call.id);
    if ('addresses' in reply) return reply.addresses;
    return 'error' in reply ? reply.error : { code: 'internal-error', message: 'unexpected answer' };
  }

  #await(id: number): NetReply {
    for (;;) {
      // read the counter first: an answer posted after the receive below bumps it, so the wait returns at once
      const seen = Atomics.load(this.control, CONTROL_NET_INDEX);
      const received = receiveMessageOnPort(this.port);
      if (received) {
        const reply = received.message as NetReply;
        if (reply.id === id) return reply;
        continue; // the answer to a call abandoned by a stop: skip it
      }
      this.guest.checkStop();
      Atomics.wait(this.control, CONTROL_NET_INDEX, seen, STOP_CHECK_MS);
    }
  }
}
