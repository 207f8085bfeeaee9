// wasi:sockets/udp in the pod's virtual network (decision 054). A socket binds a UDP port of the
// pod (the pod network's table, separate from TCP's: address-in-use within the pod; 0 picks an
// ephemeral port), then `stream` gives its datagram streams, connected to one remote address or
// not. Sending posts each datagram to the runtime, which routes it as the pod network would route
// a packet (loopback, pod IPs, Services' ClusterIPs per flow, other nodes, outside where egress
// allows it); the first datagram to an address waits for the verdict, so access-denied and
// connection-refused reach the guest, and later ones to the same address within a second go
// without waiting (the runtime still checks each one and drops what is refused). Receiving takes
// datagrams from the socket's bounded queue (net/guest-udp.ts). No pod network: bind is denied.
import { monotonicNowNs } from './guest-control.js';
import type { GuestControl } from './guest-control.js';
import type { GuestUdp } from '../net/guest-udp.js';
import type { NetFailure } from '../net/net-messages.js';
import {
  createUdpCounters, MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6, MAX_RECEIVE_BYTES, MIN_RECEIVE_BYTES, SEND_BATCH, SEND_WINDOW_BYTES,
  UDP_LIMIT, UDP_UNSENT,
} from '../net/udp-messages.js';
import { Pollable, SignalPollable } from './io.js';
import { addressText, isBindable, isUnspecified, toSocketAddress, withPort, type IpAddressFamily, type IpSocketAddress } from './socket-address.js';
import { WasiError } from './wasi-errors.js';

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const fail = (code: string): never => {
  throw new WasiError(code);
};

/** How long a destination's verdict is trusted before the next datagram to it waits for one again. */
const VERDICT_NS = 1_000_000_000n;
const MAX_VERDICTS = 256;

/** The wasi:sockets error-code of a datagram the pod network refused. */
export function sendErrorCode(failure: NetFailure): string {
  switch (failure.code) {
    case 'connection-refused':
      return 'connection-refused';
    case 'destination-IP-prohibited':
    case 'HTTP-request-denied':
      return 'access-denied';
    case 'destination-unavailable':
    case 'destination-IP-unroutable':
    case 'destination-not-found':
      return 'remote-unreachable';
    case 'HTTP-request-body-size':
      return 'datagram-too-large';
    case 'connection-limit-reached':
      return 'new-socket-limit';
    default:
      return 'unknown';
  }
}

type UdpState = 'unbound' | 'binding' | 'bound' | 'closed';

export class UdpSocket {
  #state: UdpState = 'unbound';
  #local: IpSocketAddress | undefined;
  #remote: IpSocketAddress | undefined;
  /** Bumped by every `stream`: the streams of an earlier call are no longer the socket's. */
  #generation = 0;
  readonly #counters = createUdpCounters();
  readonly #verdicts = new Map<string, bigint>();

  constructor(
    private readonly family: IpAddressFamily,
    private readonly control: GuestControl,
    private readonly udp: GuestUdp | undefined,
    private readonly signal: { current(): number; wait(seen: number, deadlineNs: bigint): void } | undefined,
  ) {}

  startBind(_network: unknown, local: IpSocketAddress): void {
    if (!this.udp) fail('access-denied');
    if (this.#state !== 'unbound') fail('invalid-state');
    if (local.tag !== this.family) fail('invalid-argument');
    if (!isBindable(local)) fail('address-not-bindable');
    const bound = this.udp!.bind(local.val.port, this.#counters);
    if (bound === 'address-in-use') return fail(bound);
    if (typeof bound !== 'number') return fail(bound.code === 'connection-limit-reached' ? 'new-socket-limit' : 'access-denied');
    this.#local = withPort(local, bound);
    this.#state = 'binding';
  }
  finishBind(): void {
    if (this.#state !== 'binding') fail('not-in-progress');
    this.#state = 'bound';
  }
  stream(remote: IpSocketAddress | undefined): [IncomingDatagramStream, OutgoingDatagramStream] {
    if (this.#state !== 'bound') fail('invalid-state');
    if (remote) this.#checkRemote(remote);
    this.#remote = remote;
    const generation = ++this.#generation;
    return [new IncomingDatagramStream(this, generation), new OutgoingDatagramStream(this, generation)];
  }
  localAddress(): IpSocketAddress {
    if (this.#state !== 'bound') fail('invalid-state');
    return this.#local!;
  }
  remoteAddress(): IpSocketAddress {
    if (this.#state !== 'bound' || !this.#remote) fail('invalid-state');
    return this.#remote!;
  }
  addressFamily(): IpAddressFamily {
    return this.family;
  }
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
  unicastHopLimit = (): number => 64;
  setUnicastHopLimit(value: number): void {
    if (value === 0) fail('invalid-argument');
  }
  receiveBufferSize(): bigint {
    return BigInt(Atomics.load(this.#counters, UDP_LIMIT));
  }
  /** Bounds the socket's receive queue (clamped to 64 KiB - 4 MiB, as kernels clamp SO_RCVBUF). */
  setReceiveBufferSize(value: bigint): void {
    if (value === 0n) fail('invalid-argument');
    const clamped = value < BigInt(MIN_RECEIVE_BYTES) ? MIN_RECEIVE_BYTES : value > BigInt(MAX_RECEIVE_BYTES) ? MAX_RECEIVE_BYTES : Number(value);
    Atomics.store(this.#counters, UDP_LIMIT, clamped);
  }
  sendBufferSize = (): bigint => BigInt(SEND_WINDOW_BYTES);
  setSendBufferSize(value: bigint): void {
    if (value === 0n) fail('invalid-argument');
  }

  /** The socket's current streams are those of `generation`. */
  check(generation: number): void {
    if (this.#state !== 'bound' || generation !== this.#generation) fail('invalid-state');
  }

  receive(max: number): Array<{ data: Uint8Array; remoteAddress: IpSocketAddress }> {
    const out: Array<{ data: Uint8Array; remoteAddress: IpSocketAddress }> = [];
    while (out.length < max) {
      const taken = this.udp!.take(this.#local!.val.port, max - out.length);
      if (taken.length === 0) break;
      for (const { from, data } of taken) {
        const remoteAddress = toSocketAddress(from.host, from.port, this.family);
        // connected: datagrams from anyone else are not the socket's (the kernel filters them too)
        if (this.#remote && !sameAddress(this.#remote, remoteAddress)) continue;
        out.push({ data, remoteAddress });
      }
    }
    return out;
  }

  readable(): boolean {
    return this.udp!.pending(this.#local!.val.port);
  }

  /** Datagrams the next send may take: none while the run's earlier ones are not routed yet. */
  sendable(): number {
    return Atomics.load(this.#counters, UDP_UNSENT) < SEND_WINDOW_BYTES ? SEND_BATCH : 0;
  }

  /** Sends one datagram; throws WasiError. */
  send(data: Uint8Array, remote: IpSocketAddress | undefined): void {
    if (this.#remote && remote && !sameAddress(this.#remote, remote)) fail('invalid-argument');
    const to = remote ?? this.#remote;
    if (!to) fail('invalid-argument');
    this.#checkRemote(to!);
    if (data.length > (this.family === 'ipv4' ? MAX_DATAGRAM_IPV4 : MAX_DATAGRAM_IPV6)) fail('datagram-too-large');
    const host = addressText(to!);
    const key = `${host}:${to!.val.port}`;
    const now = monotonicNowNs();
    const known = (this.#verdicts.get(key) ?? 0n) > now;
    const failure = this.udp!.send(this.#local!.val.port, host, to!.val.port, data, !known);
    if (failure) {
      this.#verdicts.delete(key);
      fail(sendErrorCode(failure));
    }
    if (!known) {
      if (this.#verdicts.size >= MAX_VERDICTS) this.#verdicts.clear();
      this.#verdicts.set(key, now + VERDICT_NS);
    }
  }

  get wake() {
    return this.signal!;
  }
  get guest(): GuestControl {
    return this.control;
  }

  #checkRemote(remote: IpSocketAddress): void {
    if (remote.tag !== this.family || remote.val.port === 0 || isUnspecified(remote)) fail('invalid-argument');
  }

  /** Dropped by the guest: its port goes back to the pod, what waits for it is discarded. */
  [DISPOSE](): void {
    const state = this.#state;
    this.#state = 'closed';
    if ((state === 'bound' || state === 'binding') && this.#local) this.udp?.unbind(this.#local.val.port);
  }
}

export class IncomingDatagramStream {
  constructor(
    private readonly socket: UdpSocket,
    private readonly generation: number,
  ) {}
  /** Up to `maxResults` datagrams waiting now (none: an empty list; wait on subscribe). */
  receive(maxResults: bigint): Array<{ data: Uint8Array; remoteAddress: IpSocketAddress }> {
    this.socket.check(this.generation);
    this.socket.guest.checkStop();
    if (maxResults === 0n) return [];
    return this.socket.receive(maxResults > 1024n ? 1024 : Number(maxResults));
  }
  subscribe(): Pollable {
    return new SignalPollable(this.socket.guest, this.socket.wake, () => this.socket.readable());
  }
}

export class OutgoingDatagramStream {
  #permitted = 0;
  constructor(
    private readonly socket: UdpSocket,
    private readonly generation: number,
  ) {}
  checkSend(): bigint {
    this.socket.check(this.generation);
    this.#permitted = this.socket.sendable();
    return BigInt(this.#permitted);
  }
  /** Sends in order; the first failure is the error when nothing was sent, else the count so far. */
  send(datagrams: Array<{ data: Uint8Array; remoteAddress?: IpSocketAddress | undefined }>): bigint {
    this.socket.check(this.generation);
    this.socket.guest.checkStop();
    if (datagrams.length > this.#permitted) {
      // wasi:sockets: each send must be permitted by a preceding check-send; a guest that skips it traps
      throw new Error(`udp send of ${datagrams.length} datagrams was not permitted by check-send (${this.#permitted})`);
    }
    this.#permitted -= datagrams.length;
    let sent = 0;
    for (const datagram of datagrams) {
      try {
        this.socket.send(datagram.data, datagram.remoteAddress);
      } catch (error) {
        if (sent === 0) throw error;
        break;
      }
      sent++;
    }
    return BigInt(sent);
  }
  subscribe(): Pollable {
    return new SignalPollable(this.socket.guest, this.socket.wake, () => this.socket.sendable() > 0);
  }
}

function sameAddress(a: IpSocketAddress, b: IpSocketAddress): boolean {
  return a.tag === b.tag && a.val.port === b.val.port && addressText(a) === addressText(b);
}

export function createUdpSocket(family: IpAddressFamily, control: GuestControl, udp: GuestUdp | undefined, signal: UdpSocket['wake'] | undefined): UdpSocket {
  if (family !== 'ipv4' && family !== 'ipv6') fail('not-supported');
  return new UdpSocket(family, control, udp, signal);
}
