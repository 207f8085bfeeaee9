// A guest's TCP connection (wasi:sockets/tcp after connect or accept): its input and output
// streams over the connection's shared ring buffers (byte-ring.ts). Non-blocking calls answer at
// once (an empty read, check-write 0 when the peer's ring is full); blocking calls and pollables
// wait on the guest's wake signal, which the peer bumps after every change: no busy waiting, and
// a stop request unwinds the guest within 100 ms.
import type { GuestControl } from '../wasi/guest-control.js';
import { InputStream, IoError, OutputStream, SignalPollable, type Pollable, type WakeSignal } from '../wasi/io.js';
import { WasiError } from '../wasi/wasi-errors.js';
import type { RingEndpoint } from './byte-ring.js';
import type { NetFailure } from './net-messages.js';

const MAX_READ_BYTES = 1 << 20;

const closed = () => new WasiError({ tag: 'closed' });
/** The peer is gone without a close: wasi:sockets/network.network-error-code says connection-reset. */
const reset = () => new WasiError({ tag: 'last-operation-failed', val: new IoError('connection reset by peer', 'ECONNRESET') });

/** Waits on `signal` until `done` holds (checked after reading the word, so no wake-up is lost). */
export function waitFor(signal: WakeSignal, done: () => boolean, deadlineNs: bigint): void {
  for (;;) {
    const seen = signal.current();
    if (done()) return;
    signal.wait(seen, deadlineNs);
  }
}

const FOREVER = 0xffff_ffff_ffff_ffffn;

export class SocketInputStream extends InputStream {
  constructor(
    private readonly ring: RingEndpoint,
    private readonly guest: GuestControl,
    private readonly signal: WakeSignal,
  ) {
    super({ read: () => undefined }, guest);
  }
  override read(length: bigint): Uint8Array {
    this.guest.checkStop();
    const result = this.ring.read(length > BigInt(MAX_READ_BYTES) ? MAX_READ_BYTES : Number(length));
    if (result === 'empty') return new Uint8Array(0);
    if (result === 'eof') throw closed();
    if (result === 'reset') throw reset();
    return result;
  }
  override blockingRead(length: bigint): Uint8Array {
    if (length > 0n) waitFor(this.signal, () => this.ring.readable, FOREVER);
    return this.read(length);
  }
  override skip(length: bigint): bigint {
    return BigInt(this.read(length).length);
  }
  override blockingSkip(length: bigint): bigint {
    return BigInt(this.blockingRead(length).length);
  }
  override subscribe(): Pollable {
    return new SignalPollable(this.guest, this.signal, () => this.ring.readable);
  }
}

export class SocketOutputStream extends OutputStream {
  constructor(
    private readonly ring: RingEndpoint,
    private readonly guest: GuestControl,
    private readonly signal: WakeSignal,
  ) {
    super({ write: () => undefined }, guest);
  }
  override checkWrite(): bigint {
    const free = this.ring.writable();
    if (free === 'closed') throw closed();
    if (free === 'reset') throw reset();
    return BigInt(free);
  }
  /** Takes everything: past what check-write permitted it waits for room (a lenient host, not a trap). */
  override write(contents: Uint8Array): void {
    this.guest.checkStop();
    let offset = 0;
    for (;;) {
      const taken = this.ring.write(offset === 0 ? contents : contents.subarray(offset));
      if (taken === 'closed') throw closed();
      if (taken === 'reset') throw reset();
      offset += taken;
      if (offset >= contents.length) return;
      waitFor(this.signal, () => this.ring.writable() !== 0, FOREVER);
    }
  }
  override blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
  }
  // the ring is the network: what is written is sent
  override flush(): void {
    this.checkWrite();
  }
  override blockingFlush(): void {
    this.checkWrite();
  }
  override subscribe(): Pollable {
    return new SignalPollable(this.guest, this.signal, () => this.ring.writable() !== 0);
  }
}

/** The wasi:sockets error-code a failed connect gets. */
export function connectErrorCode(failure: NetFailure): string {
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
    case 'HTTP-response-timeout':
      return 'timeout';
    case 'connection-limit-reached':
      return 'new-socket-limit';
    default:
      return 'unknown';
  }
}

/** wasi:sockets/network.network-error-code for a stream's error. */
export function networkErrorCode(error: unknown): string | undefined {
  if (!(error instanceof IoError)) return undefined;
  if (error.errno === 'ECONNRESET' || error.errno === 'EPIPE') return 'connection-reset';
  return undefined;
}
