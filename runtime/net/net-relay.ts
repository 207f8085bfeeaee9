// Main-thread side of a guest run's network port: carries the guest's calls to the pod network
// (PodNetworkPorts.httpRequest), posts each answer back and wakes the guest's thread.
import type { MessagePort } from 'node:worker_threads';
import { PodNetworkError, type PodNetworkPorts } from '../pod-runtime.js';
import { CONTROL_NET_INDEX } from '../worker/guest-messages.js';
import type { NetCall, NetReply } from './net-messages.js';

export class NetRelay {
  #closed = false;
  #control: Int32Array | undefined;

  constructor(
    private readonly port: MessagePort,
    private readonly network: PodNetworkPorts,
  ) {
    port.on('message', (call: NetCall) => void this.#carry(call));
  }

  /** The run's control block, whose net counter wakes the guest. */
  attach(control: Int32Array): void {
    this.#control = control;
  }

  /** The run ended: answers still on their way are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.port.close();
  }

  async #carry(call: NetCall): Promise<void> {
    let reply: NetReply;
    try {
      if (call?.kind === 'resolve' && this.network.resolve) {
        reply = { id: call.id, addresses: await this.network.resolve(String(call.name)) };
      } else if (call?.kind === 'http' && this.network.httpRequest) {
        reply = { id: call.id, response: await this.network.httpRequest(call.request, { timeoutMs: call.timeoutMs }) };
      } else {
        throw new PodNetworkError('HTTP-request-denied', 'this container has no pod network');
      }
    } catch (error) {
      reply = error instanceof PodNetworkError
        ? { id: call.id, error: { code: error.code, message: error.message } }
        : { id: call.id, error: { code: 'internal-error', message: (error as Error)?.message ?? String(error) } };
    }
    if (this.#closed) return;
    this.port.postMessage(reply);
    if (this.#control) {
      Atomics.add(this.#control, CONTROL_NET_INDEX, 1);
      Atomics.notify(this.#control, CONTROL_NET_INDEX);
    }
  }
}
