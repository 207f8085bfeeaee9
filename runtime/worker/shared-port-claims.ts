// Worker side of the pod's ports: claims ports in the pod's shared bitmap for this guest, records
// each one in the run's control block (so the runtime can free them if it has to terminate the
// worker), and tells the runtime when the guest listens on one or closes it.
import { claimEphemeralPort, claimPort, releasePort } from '../network/port-bitmap.js';
import type { PodPorts } from '../wasi/sockets.js';
import { CONTROL_FIRST_PORT_INDEX, MAX_BOUND_PORTS, type GuestEvent } from './guest-messages.js';

const END = CONTROL_FIRST_PORT_INDEX + MAX_BOUND_PORTS;

export class SharedPortClaims implements PodPorts {
  readonly #bits: Int32Array;
  constructor(
    bitmap: SharedArrayBuffer,
    private readonly control: Int32Array,
    private readonly emit: (event: GuestEvent) => void,
  ) {
    this.#bits = new Int32Array(bitmap);
  }

  claim(port: number): number | 'address-in-use' | 'new-socket-limit' {
    const slot = this.#freeSlot();
    if (slot === undefined) return 'new-socket-limit';
    const claimed = port === 0 ? claimEphemeralPort(this.#bits) : claimPort(this.#bits, port) ? port : undefined;
    if (claimed === undefined) return 'address-in-use';
    // the bit first, then the slot: a worker terminated in between leaks the port rather than
    // letting the runtime free a port another guest holds
    Atomics.store(this.control, slot, claimed + 1);
    return claimed;
  }

  release(port: number): void {
    for (let i = CONTROL_FIRST_PORT_INDEX; i < END; i++) {
      if (Atomics.compareExchange(this.control, i, port + 1, 0) === port + 1) {
        releasePort(this.#bits, port);
        return;
      }
    }
  }

  listening(port: number): void {
    this.emit({ type: 'listening', port });
  }

  closed(port: number): void {
    this.release(port);
    this.emit({ type: 'port-closed', port });
  }

  #freeSlot(): number | undefined {
    for (let i = CONTROL_FIRST_PORT_INDEX; i < END; i++) {
      if (Atomics.load(this.control, i) === 0) return i;
    }
    return undefined;
  }
}
