// Main-thread side of a pod's virtual network ports: one port bitmap per pod network namespace
// (handed to every worker that runs one of the pod's guests), and the bookkeeping that turns what
// the workers report into PodNetworkPorts calls. Each guest run holds a PortLease; when the run
// ends, however it ends (even a terminated worker that could not clean up), the lease frees the
// ports the guest still held, read from the run's control block.
import type { StreamAcceptor } from '../net/byte-ring.js';
import type { PodNetworkPorts } from '../pod-runtime.js';
import { CONTROL_FIRST_PORT_INDEX, MAX_BOUND_PORTS } from '../worker/guest-messages.js';
import { createPortBitmap, releasePort } from './port-bitmap.js';

interface Listener {
  lease: PortLease;
  network: PodNetworkPorts;
  accept?: StreamAcceptor;
}

export class PortSpace {
  readonly bitmap = createPortBitmap();
  readonly #bits = new Int32Array(this.bitmap);
  /** Who was last reported listening on each port. */
  readonly #listeners = new Map<number, Listener>();

  lease(network: PodNetworkPorts): PortLease {
    return new PortLease(this, network);
  }

  listening(port: number, listener: Listener): void {
    const previous = this.#listeners.get(port);
    // The bitmap gave the port to this guest, so a previous holder has let it go even if its
    // 'port-closed' (sent from another worker) has not arrived yet: tell the network in order.
    if (previous && previous.lease !== listener.lease) notify(() => previous.network.closed(port, 'TCP'));
    this.#listeners.set(port, listener);
    notify(() => listener.network.listening(port, 'TCP', listener.accept));
  }

  closed(port: number, lease: PortLease): void {
    const current = this.#listeners.get(port);
    if (current?.lease !== lease) return;
    this.#listeners.delete(port);
    notify(() => current.network.closed(port, 'TCP'));
  }

  /** Frees the ports still held in a finished run's control block and closes its listeners. */
  release(lease: PortLease, control: Int32Array): void {
    for (let i = CONTROL_FIRST_PORT_INDEX; i < CONTROL_FIRST_PORT_INDEX + MAX_BOUND_PORTS; i++) {
      const slot = Atomics.exchange(control, i, 0);
      if (slot !== 0) releasePort(this.#bits, slot - 1);
    }
    for (const [port, listener] of this.#listeners) {
      if (listener.lease === lease) this.closed(port, lease);
    }
  }
}

/** One guest run's use of its pod's ports. */
export class PortLease {
  #ended = false;
  /** Hands connections to the run's listeners (its NetRelay). */
  acceptor: ((port: number) => StreamAcceptor) | undefined;
  constructor(
    private readonly space: PortSpace,
    private readonly network: PodNetworkPorts,
  ) {}

  get bitmap(): SharedArrayBuffer {
    return this.space.bitmap;
  }

  listening(port: number): void {
    if (this.#ended) return;
    const accept = this.acceptor?.(port);
    this.space.listening(port, { lease: this, network: this.network, ...(accept ? { accept } : {}) });
  }

  closed(port: number): void {
    this.space.closed(port, this);
  }

  /** The run is over: release everything it held. Idempotent. */
  end(control: Int32Array): void {
    if (this.#ended) return;
    this.#ended = true;
    this.space.release(this, control);
  }
}

/** Port spaces by pod network namespace (`network.namespace`, else the PodNetworkPorts object). */
export class PortSpaces {
  readonly #spaces = new WeakMap<object, PortSpace>();

  of(network: PodNetworkPorts): PortSpace {
    const key = network.namespace ?? network;
    let space = this.#spaces.get(key);
    if (!space) {
      space = new PortSpace();
      this.#spaces.set(key, space);
    }
    return space;
  }
}

// The pod network is the agent's code: a failure there must not take the guest's run down with it.
function notify(call: () => void): void {
  try {
    call();
  } catch {
    // nothing the runtime can do about it; the guest keeps its socket
  }
}
