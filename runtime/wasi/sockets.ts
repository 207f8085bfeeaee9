// wasi:sockets in the pod's virtual network. With the pod's ports (PodPorts) a guest may bind TCP
// sockets to the unspecified or loopback address (ipv4 or ipv6; port 0 picks a free ephemeral port)
// and listen: ports are exclusive within the pod (address-in-use) and the runtime tells the pod
// network about listeners. TCP connections are byte streams in shared memory (net/byte-ring.ts,
// net/guest-tcp.ts): connect posts the address to the runtime (the pod network routes it to a
// listener, net/net-relay.ts) and finish-connect answers would-block until the answer came;
// accepted connections arrive on the run's network port. UDP is sockets-udp.ts; names are resolved by the
// pod network (net/name-lookup.ts). Without PodPorts (no pod network) bind and connect are denied.
import { RING_BYTES, RingEndpoint, type StreamEnd } from '../net/byte-ring.js';
import type { GuestNet } from '../net/guest-net.js';
import { connectErrorCode, networkErrorCode, SocketInputStream, SocketOutputStream } from '../net/guest-tcp.js';
import { createNameLookup } from '../net/name-lookup.js';
import type { NetFailure } from '../net/net-messages.js';
import type { GuestControl } from './guest-control.js';
import { NEVER_NS, Pollable, SignalPollable, type InputStream, type OutputStream } from './io.js';
import { createUdpSocket, IncomingDatagramStream, OutgoingDatagramStream, UdpSocket } from './sockets-udp.js';
import { WasiError } from './wasi-errors.js';

import { addressText, isBindable, isUnspecified, toSocketAddress, withPort, type IpAddressFamily, type IpSocketAddress } from './socket-address.js';

/** The pod's TCP ports, as seen from inside a guest's worker (worker/shared-port-claims.ts). */
export interface PodPorts {
  /** Claims `port`, or a free ephemeral port for 0; the port claimed, or why not. */
  claim(port: number): number | 'address-in-use' | 'new-socket-limit';
  /** Gives back a claimed port that was never listened on. */
  release(port: number): void;
  /** The guest listens on a claimed port. */
  listening(port: number): void;
  /** The guest's listener is gone: release the port and tell the pod network. */
  closed(port: number): void;
}

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

const fail = (code: string): never => {
  throw new WasiError(code);
};
const denied = (): never => fail('access-denied');
const invalidState = (): never => fail('invalid-state');

export class Network {}

type TcpState = 'unbound' | 'binding' | 'bound' | 'listen-started' | 'listening' | 'connecting' | 'connected' | 'closed';

const FOREVER_NS = NEVER_NS;

class TcpSocket {
  #state: TcpState = 'unbound';
  #local: IpSocketAddress | undefined;
  #remote: IpSocketAddress | undefined;
  /** The pending connect call, and its answer once it came. */
  #call: number | undefined;
  #answer: StreamEnd | NetFailure | undefined;
  #ring: RingEndpoint | undefined;

  constructor(
    private readonly family: IpAddressFamily,
    private readonly control: GuestControl,
    private readonly ports: PodPorts | undefined,
    private readonly net: GuestNet | undefined,
  ) {}

  /** An accepted connection: connected from the start. */
  static accepted(listener: TcpSocket, end: StreamEnd): TcpSocket {
    const socket = new TcpSocket(listener.family, listener.control, listener.ports, listener.net);
    socket.#state = 'connected';
    socket.#local = listener.#local;
    socket.#remote = end.from ? toSocketAddress(end.from.host, end.from.port, listener.family) : withPort(listener.#local!, 0);
    socket.#ring = new RingEndpoint(end);
    return socket;
  }

  startBind(_network: Network, local: IpSocketAddress): void {
    if (!this.ports) denied();
    if (this.#state !== 'unbound') invalidState();
    if (local.tag !== this.family) fail('invalid-argument');
    if (!isBindable(local)) fail('address-not-bindable');
    const claimed = this.ports!.claim(local.val.port);
    if (typeof claimed === 'string') fail(claimed);
    this.#local = withPort(local, claimed as number);
    this.#state = 'binding';
  }
  finishBind(): void {
    if (this.#state !== 'binding') fail('not-in-progress');
    this.#state = 'bound';
  }
  startListen(): void {
    if (this.#state !== 'bound') invalidState();
    this.#state = 'listen-started';
  }
  finishListen(): void {
    if (this.#state !== 'listen-started') fail('not-in-progress');
    this.#state = 'listening';
    this.net?.listen(this.#local!.val.port);
    this.ports!.listening(this.#local!.val.port);
  }
  accept(): [TcpSocket, InputStream, OutputStream] {
    if (this.#state !== 'listening') invalidState();
    const end = this.net?.incoming(this.#local!.val.port, true);
    if (!end) return fail('would-block');
    const socket = TcpSocket.accepted(this, end);
    return [socket, ...socket.#streams()];
  }
  startConnect(_network: Network, remote: IpSocketAddress): void {
    if (this.#state !== 'unbound' && this.#state !== 'bound') invalidState();
    if (!this.net || !this.ports) denied();
    if (remote.tag !== this.family || remote.val.port === 0 || isUnspecified(remote)) fail('invalid-argument');
    if (this.#state === 'unbound') {
      // the implicit bind of connect: an ephemeral port of the pod
      const claimed = this.ports!.claim(0);
      if (typeof claimed === 'string') fail(claimed);
      this.#local = remote.tag === 'ipv4'
        ? { tag: 'ipv4', val: { port: claimed as number, address: [127, 0, 0, 1] } }
        : { tag: 'ipv6', val: { port: claimed as number, flowInfo: 0, address: [0, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 } };
    }
    this.#remote = remote;
    this.#call = this.net!.connect(addressText(remote), remote.val.port, this.#local!.val.port);
    this.#state = 'connecting';
  }
  finishConnect(): [InputStream, OutputStream] {
    if (this.#state !== 'connecting') fail('not-in-progress');
    const answer = this.#poll();
    if (!answer) return fail('would-block');
    if (!('buffer' in answer)) {
      this.#state = 'closed';
      this.#release();
      return fail(connectErrorCode(answer));
    }
    this.#ring = new RingEndpoint(answer);
    this.#state = 'connected';
    return this.#streams();
  }
  localAddress(): IpSocketAddress {
    if (this.#local === undefined || this.#state === 'binding' || this.#state === 'closed') invalidState();
    return this.#local!;
  }
  remoteAddress(): IpSocketAddress {
    if (this.#state !== 'connected') invalidState();
    return this.#remote!;
  }
  isListening(): boolean {
    return this.#state === 'listening';
  }
  addressFamily(): IpAddressFamily {
    return this.family;
  }
  setListenBacklogSize(size: bigint): void {
    if (size === 0n) fail('invalid-argument');
  }
  /** Ready for pending binds and listens, a listener's pending connection, a connect's answer. */
  subscribe(): Pollable {
    if (this.#state === 'listening' && this.net) {
      const port = this.#local!.val.port;
      return new SignalPollable(this.control, this.net.signal, () => this.net!.incoming(port, false) !== undefined);
    }
    if (this.#state === 'connecting') return new SignalPollable(this.control, this.net!.signal, () => this.#poll() !== undefined);
    return new Pollable(this.control, this.#state === 'listening' ? FOREVER_NS : undefined);
  }
  shutdown(how: 'receive' | 'send' | 'both'): void {
    if (this.#state !== 'connected') invalidState();
    if (how !== 'send') this.#ring!.shutdownReceive();
    if (how !== 'receive') this.#ring!.shutdownSend();
  }
  // options are accepted and have no effect: the ring buffers are the buffers
  keepAliveEnabled = (): boolean => false;
  setKeepAliveEnabled = (): void => undefined;
  keepAliveIdleTime = (): bigint => 7_200_000_000_000n;
  setKeepAliveIdleTime = (): void => undefined;
  keepAliveInterval = (): bigint => 75_000_000_000n;
  setKeepAliveInterval = (): void => undefined;
  keepAliveCount = (): number => 9;
  setKeepAliveCount = (): void => undefined;
  hopLimit = (): number => 64;
  setHopLimit = (): void => undefined;
  receiveBufferSize = (): bigint => BigInt(RING_BYTES);
  setReceiveBufferSize = (): void => undefined;
  sendBufferSize = (): bigint => BigInt(RING_BYTES);
  setSendBufferSize = (): void => undefined;

  #poll(): StreamEnd | NetFailure | undefined {
    this.#answer ??= this.net!.connected(this.#call!);
    return this.#answer;
  }

  #streams(): [InputStream, OutputStream] {
    const signal = this.net!.signal;
    return [new SocketInputStream(this.#ring!, this.control, signal), new SocketOutputStream(this.#ring!, this.control, signal)];
  }

  #release(): void {
    const port = this.#local?.val.port;
    if (port !== undefined && this.ports && this.#call !== undefined) this.ports.release(port);
  }

  /** Dropped by the guest: its port goes back to the pod; a connection is closed (FIN). */
  [DISPOSE](): void {
    const state = this.#state;
    this.#state = 'closed';
    if (state === 'closed') return;
    if (this.#ring) {
      this.#ring.close();
      this.#release(); // accepted sockets hold no port of their own
      return;
    }
    if (state === 'connecting') {
      // the answer may still come: a stream that arrives is closed right away
      const answer = this.#poll();
      if (answer && 'buffer' in answer) new RingEndpoint(answer).close();
      this.#release();
      return;
    }
    const port = this.#local?.val.port;
    if (port === undefined) return;
    if (state === 'listening') {
      for (const end of this.net?.stopAccepting(port) ?? []) new RingEndpoint(end).reset();
      this.ports!.closed(port);
    } else this.ports!.release(port);
  }
}


export function createSocketsImports(control: GuestControl, ports?: PodPorts, net?: GuestNet) {
  const network = new Network();
  return {
    'wasi:sockets/network': { Network, networkErrorCode },
    'wasi:sockets/instance-network': { instanceNetwork: () => network },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': {
      createTcpSocket: (family: IpAddressFamily) => new TcpSocket(family, control, ports, net),
    },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': { createUdpSocket: (family: IpAddressFamily) => createUdpSocket(family, control, net?.udp, net?.signal) },
    'wasi:sockets/ip-name-lookup': createNameLookup(control, net),
  };
}
