// The UDP ports of a pod's network namespace (decision 054), apart from its TCP ports as in any
// network stack: which guest socket of which container instance holds each one. A datagram for a
// port goes to its holder's receive function (the guest run's UdpRelay, which queues it for the
// guest or drops it when the socket's queue is full); a datagram for a port nobody holds is
// dropped (the kernel would answer ICMP port unreachable, which unconnected sockets never see).
import type { DatagramReceiver, DatagramSource } from '../../runtime/net/udp-messages.js';

/** The ephemeral range Linux uses (net.ipv4.ip_local_port_range). */
export const EPHEMERAL_FIRST = 32_768;
export const EPHEMERAL_LAST = 60_999;

export interface UdpHolder {
  owner: string;
  container: string;
  receive: DatagramReceiver;
}

export class PodUdpPorts {
  readonly #ports = new Map<number, UdpHolder>();
  #next = EPHEMERAL_FIRST;
  /** Datagrams delivered to a socket's queue, and dropped: nobody held the port, or its queue was full. */
  readonly counts = { delivered: 0, unbound: 0, full: 0 };

  /** Binds `port` (0: a free ephemeral one) for `owner`'s socket: the port, or address-in-use. */
  bind(owner: string, container: string, port: number, receive: DatagramReceiver): number | 'address-in-use' {
    if (!Number.isInteger(port) || port < 0 || port > 65535) return 'address-in-use';
    if (port === 0) {
      const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
      for (let i = 0; i < span; i++) {
        const candidate = EPHEMERAL_FIRST + ((this.#next - EPHEMERAL_FIRST + i) % span);
        if (this.#ports.has(candidate)) continue;
        this.#next = candidate + 1 > EPHEMERAL_LAST ? EPHEMERAL_FIRST : candidate + 1;
        this.#ports.set(candidate, { owner, container, receive });
        return candidate;
      }
      return 'address-in-use';
    }
    if (this.#ports.has(port)) return 'address-in-use';
    this.#ports.set(port, { owner, container, receive });
    return port;
  }

  /** The socket on `port` is gone (only the one that bound it lets it go). */
  unbind(port: number, receive: DatagramReceiver): void {
    if (this.#ports.get(port)?.receive === receive) this.#ports.delete(port);
  }

  /** Drops every port the instance `owner` holds (it ended). */
  release(owner: string): void {
    for (const [port, holder] of this.#ports) if (holder.owner === owner) this.#ports.delete(port);
  }

  /** Hands a datagram to whoever holds `port`: false when it was dropped. */
  deliver(port: number, from: DatagramSource, data: Uint8Array): boolean {
    const holder = this.#ports.get(port);
    if (!holder) {
      this.counts.unbound++;
      return false;
    }
    const taken = holder.receive(from, data);
    if (taken) this.counts.delivered++;
    else this.counts.full++;
    return taken;
  }

  holder(port: number): UdpHolder | undefined {
    return this.#ports.get(port);
  }

  /** The bound UDP ports, ascending. */
  get openPorts(): number[] {
    return [...this.#ports.keys()].sort((a, b) => a - b);
  }
}
