// wasi:sockets in the pod's virtual network. With the pod's ports (PodPorts) a guest may bind TCP
// sockets to the unspecified or loopback address (ipv4 or ipv6; port 0 picks a free ephemeral port)
// and listen: ports are exclusive within the pod (address-in-use) and the runtime tells the pod
// network about listeners. No connection is carried yet: `accept` answers would-block and a
// listener's pollable never becomes ready (a tcpSocket probe only needs the listener, as with a
// kernel completing handshakes into the backlog). Connecting out and UDP are denied; names are
// resolved by the pod network (net/name-lookup.ts). Without PodPorts (no pod network) binding is denied too.
import type { GuestNet } from '../net/guest-net.js';
import { createNameLookup } from '../net/name-lookup.js';
import type { GuestControl } from './guest-control.js';
import { NEVER_NS, Pollable } from './io.js';
import { WasiError } from './wasi-errors.js';

type IpAddressFamily = 'ipv4' | 'ipv6';
type Ipv4SocketAddress = { port: number; address: [number, number, number, number] };
type Ipv6SocketAddress = { port: number; flowInfo: number; address: number[]; scopeId: number };
type IpSocketAddress = { tag: 'ipv4'; val: Ipv4SocketAddress } | { tag: 'ipv6'; val: Ipv6SocketAddress };

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

class Network {}

type TcpState = 'unbound' | 'binding' | 'bound' | 'listen-started' | 'listening' | 'closed';

class TcpSocket {
  #state: TcpState = 'unbound';
  #local: IpSocketAddress | undefined;

  constructor(
    private readonly family: IpAddressFamily,
    private readonly control: GuestControl,
    private readonly ports: PodPorts | undefined,
  ) {}

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
    this.ports!.listening(this.#local!.val.port);
  }
  accept(): never {
    if (this.#state !== 'listening') invalidState();
    return fail('would-block');
  }
  startConnect(): never {
    if (this.#state === 'listening' || this.#state === 'listen-started') invalidState();
    return denied();
  }
  finishConnect = (): never => fail('not-in-progress');
  localAddress(): IpSocketAddress {
    if (this.#local === undefined || this.#state === 'binding' || this.#state === 'closed') invalidState();
    return this.#local!;
  }
  remoteAddress = invalidState;
  isListening(): boolean {
    return this.#state === 'listening';
  }
  addressFamily(): IpAddressFamily {
    return this.family;
  }
  setListenBacklogSize(size: bigint): void {
    if (size === 0n) fail('invalid-argument');
  }
  /** Ready for pending binds and listens; a listener waits for a connection that never comes. */
  subscribe(): Pollable {
    return new Pollable(this.control, this.#state === 'listening' ? NEVER_NS : undefined);
  }
  shutdown = invalidState;
  // options are accepted and have no effect: no bytes are carried
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
  receiveBufferSize = (): bigint => 65_536n;
  setReceiveBufferSize = (): void => undefined;
  sendBufferSize = (): bigint => 65_536n;
  setSendBufferSize = (): void => undefined;

  /** Dropped by the guest: its port goes back to the pod. */
  [DISPOSE](): void {
    const port = this.#local?.val.port;
    const state = this.#state;
    this.#state = 'closed';
    if (port === undefined || state === 'closed') return;
    if (state === 'listening') this.ports!.closed(port);
    else this.ports!.release(port);
  }
}

class UdpSocket {
  constructor(
    private readonly family: IpAddressFamily,
    private readonly control: GuestControl,
  ) {}
  startBind = denied;
  finishBind = (): never => fail('not-in-progress');
  stream = invalidState;
  localAddress = invalidState;
  remoteAddress = invalidState;
  addressFamily(): IpAddressFamily {
    return this.family;
  }
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
  unicastHopLimit = (): number => 64;
  setUnicastHopLimit = (): void => undefined;
  receiveBufferSize = (): bigint => 65_536n;
  setReceiveBufferSize = (): void => undefined;
  sendBufferSize = (): bigint => 65_536n;
  setSendBufferSize = (): void => undefined;
}
class IncomingDatagramStream {}
class OutgoingDatagramStream {}

/** The unspecified address or loopback: the only addresses a pod's guest has. */
function isBindable(address: IpSocketAddress): boolean {
  const a = address.val.address;
  if (address.tag === 'ipv4') return a.every((b) => b === 0) || a[0] === 127;
  const zeroPrefix = a.slice(0, 7).every((w) => w === 0);
  if (zeroPrefix && (a[7] === 0 || a[7] === 1)) return true; // :: and ::1
  // ipv4-mapped (::ffff:a.b.c.d) is not allowed on an ipv6 socket by WASI
  return false;
}

function withPort(address: IpSocketAddress, port: number): IpSocketAddress {
  return address.tag === 'ipv4'
    ? { tag: 'ipv4', val: { ...address.val, port } }
    : { tag: 'ipv6', val: { ...address.val, port } };
}

export function createSocketsImports(control: GuestControl, ports?: PodPorts, net?: GuestNet) {
  const network = new Network();
  return {
    'wasi:sockets/network': { Network, networkErrorCode: (): undefined => undefined },
    'wasi:sockets/instance-network': { instanceNetwork: () => network },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': {
      createTcpSocket: (family: IpAddressFamily) => new TcpSocket(family, control, ports),
    },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': { createUdpSocket: (family: IpAddressFamily) => new UdpSocket(family, control) },
    'wasi:sockets/ip-name-lookup': createNameLookup(control, net),
  };
}
