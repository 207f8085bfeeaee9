// A guest's UDP datagrams to addresses out of the cluster (decision 054): the same egress rules as
// TCP and HTTP (egress-route.ts: denied unless --allow-egress or an egress ipBlock of a
// NetworkPolicy selecting the pod allows it; the node's loopback and link-local addresses only by
// the agent flag), then a real dgram socket of the agent, one per guest socket (pod IP and port),
// closed after UDP_FLOW_TIMEOUT_MS unused. Replies come back to the guest's socket only from an
// address and port it sent to (as a NAT's conntrack lets them in).
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { PodNetwork } from '../pods/pod-network.js';
import { checkOutside, type EgressContext } from './egress-route.js';
import type { PolicyEnd } from './policy-check.js';
import { UDP_FLOW_TIMEOUT_MS } from './udp-flows.js';

/** Guest sockets with an outside socket at once, on one node. */
export const MAX_OUTSIDE_UDP_SOCKETS = 1_024;

interface Outside {
  socket: Socket;
  usedAt: number;
  /** `ip:port` the guest sent to: replies are let in from these only. */
  contacted: Set<string>;
}

export class OutsideUdp {
  readonly #sockets = new Map<string, Outside>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: EgressContext,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sends `data` from `source`'s socket (`port` of `network`) to `ip`:`port`; rejects with PodNetworkError. */
  send(end: PolicyEnd | undefined, source: { network: PodNetwork; port: number }, ip: string, port: number, data: Uint8Array): Promise<void> {
    checkOutside(this.context, end, ip, port, 'UDP');
    const family = isIP(ip) === 6 ? 'udp6' : 'udp4';
    const key = `${family} ${source.network.podIP ?? ''} ${source.port}`;
    let outside = this.#sockets.get(key);
    if (!outside) {
      if (this.#sockets.size >= MAX_OUTSIDE_UDP_SOCKETS) {
        throw new PodNetworkError('connection-limit-reached', `this node holds ${MAX_OUTSIDE_UDP_SOCKETS} UDP sockets out of the cluster`);
      }
      outside = this.#open(key, family, source);
    }
    outside.usedAt = this.now();
    if (outside.contacted.size < 1024) outside.contacted.add(`${ip}:${port}`);
    const socket = outside.socket;
    return new Promise<void>((resolve, reject) => {
      socket.send(data, port, ip, (error) => {
        if (!error) return resolve();
        reject(new PodNetworkError('destination-unavailable', `dial udp ${ip}:${port}: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      });
    });
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const outside of this.#sockets.values()) outside.socket.close();
    this.#sockets.clear();
  }

  get size(): number {
    return this.#sockets.size;
  }

  #open(key: string, family: 'udp4' | 'udp6', source: { network: PodNetwork; port: number }): Outside {
    const socket = createSocket(family);
    const outside: Outside = { socket, usedAt: this.now(), contacted: new Set() };
    socket.on('error', () => this.#close(key, outside));
    socket.on('message', (message: Buffer, remote: { address: string; port: number }) => {
      if (!outside.contacted.has(`${remote.address}:${remote.port}`)) return;
      outside.usedAt = this.now();
      const from: DatagramSource = { host: remote.address, port: remote.port };
      source.network.udp.deliver(source.port, from, new Uint8Array(message.buffer, message.byteOffset, message.length));
    });
    socket.unref();
    this.#sockets.set(key, outside);
    this.#sweeper ??= setInterval(() => this.#sweep(), UDP_FLOW_TIMEOUT_MS / 3);
    this.#sweeper.unref();
    return outside;
  }

  #sweep(): void {
    const now = this.now();
    for (const [key, outside] of this.#sockets) if (now - outside.usedAt > UDP_FLOW_TIMEOUT_MS) this.#close(key, outside);
    if (this.#sockets.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #close(key: string, outside: Outside): void {
    if (this.#sockets.get(key) === outside) this.#sockets.delete(key);
    try {
      outside.socket.close();
    } catch {
      // closed already
    }
  }
}
