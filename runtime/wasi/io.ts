// wasi:io (error, poll, streams). Streams wrap byte sources/sinks; the classes are the ones jco's
// bindings check with instanceof, so every stream the host hands out is one of these.
import type { GuestControl } from './guest-control.js';
import { monotonicNowNs } from './guest-control.js';
import { WasiError } from './wasi-errors.js';

export class IoError {
  /** `errno` (e.g. ENOSPC) lets wasi:filesystem/types.filesystem-error-code name the failure. */
  constructor(
    private readonly message: string,
    readonly errno?: string,
  ) {}
  toDebugString(): string {
    return this.message;
  }
}

/** A deadline no pollable reaches: it becomes ready never (a stop request still ends a wait on it). */
export const NEVER_NS = 0xffff_ffff_ffff_ffffn;

/** Ready now, or at a monotonic deadline (NEVER_NS: never); nothing in this host waits on anything else. */
export class Pollable {
  constructor(
    private readonly control: GuestControl,
    readonly readyAtNs?: bigint,
  ) {}
  ready(): boolean {
    return this.readyAtNs === undefined || monotonicNowNs() >= this.readyAtNs;
  }
  block(): void {
    if (this.readyAtNs !== undefined) this.control.sleepUntil(this.readyAtNs);
  }
}

/** Ready when a stream's source has bytes (or ended): interactive stdin. */
export class SourcePollable extends Pollable {
  constructor(
    private readonly guest: GuestControl,
    private readonly source: ByteSource & Required<Pick<ByteSource, 'isReadable' | 'waitReadable'>>,
  ) {
    super(guest, NEVER_NS);
  }
  override ready(): boolean {
    return this.source.isReadable;
  }
  override block(): void {
    this.source.waitReadable(this.guest);
  }
}

/** A word other threads bump when something a guest may wait for changed (its network: sockets, calls). */
export interface WakeSignal {
  /** The word's value now: read it before checking readiness, then wait for it to change. */
  current(): number;
  /** Blocks until the word differs from `seen` or the deadline passes (throws on a stop request). */
  wait(seen: number, deadlineNs: bigint): void;
}

/** Ready when a condition over shared state holds (a socket's ring); waits on the guest's wake signal. */
export class SignalPollable extends Pollable {
  constructor(
    guest: GuestControl,
    readonly signal: WakeSignal,
    private readonly isReady: () => boolean,
  ) {
    super(guest, NEVER_NS);
  }
  override ready(): boolean {
    return this.isReady();
  }
  override block(): void {
    for (;;) {
      const seen = this.signal.current();
      if (this.isReady()) return;
      this.signal.wait(seen, NEVER_NS);
    }
  }
}

/** A poll over source pollables looks again this often (they have no deadline to sleep until). */
const SOURCE_POLL_SLICE_NS = 20_000_000n;

export function createPoll(control: GuestControl) {
  return {
    Pollable,
    poll(pollables: Pollable[]): Uint32Array {
      if (pollables.length === 0) throw new Error('wasi:io/poll.poll called with an empty list');
      const signal = pollables.find((p): p is SignalPollable => p instanceof SignalPollable)?.signal;
      let seen = signal?.current() ?? 0;
      let ready = readyIndexes(pollables);
      if (ready.length === 0) {
        for (;;) {
          const earliestNs = pollables.reduce((min, p) => (p.readyAtNs! < min ? p.readyAtNs! : min), pollables[0]!.readyAtNs!);
          const hasSources = pollables.some((p) => p instanceof SourcePollable);
          const sliceNs = monotonicNowNs() + SOURCE_POLL_SLICE_NS;
          const deadlineNs = hasSources && sliceNs < earliestNs ? sliceNs : earliestNs;
          if (signal) signal.wait(seen, deadlineNs);
          else control.sleepUntil(deadlineNs);
          seen = signal?.current() ?? 0;
          ready = readyIndexes(pollables);
          if (ready.length > 0) break;
        }
      }
      return Uint32Array.from(ready);
    },
  };
}

function readyIndexes(pollables: Pollable[]): number[] {
  const ready: number[] = [];
  pollables.forEach((p, i) => p.ready() && ready.push(i));
  return ready;
}

export interface ByteSource {
  /** Up to `maxBytes` bytes; empty when none is available yet; undefined at end of stream. */
  read(maxBytes: number): Uint8Array | undefined;
  /** Sources that fill over time (interactive stdin): something to read, or the end, is there. */
  readonly isReadable?: boolean;
  /** Blocks until isReadable (throws GuestStopRequestedError on a stop request). */
  waitReadable?(control: GuestControl): void;
}

/** A source over bytes known in advance (stdin, a request body), then end of stream. */
export class BytesSource implements ByteSource {
  #offset = 0;
  #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  read(maxBytes: number): Uint8Array | undefined {
    if (this.#offset >= this.#bytes.length) return undefined;
    const chunk = this.#bytes.slice(this.#offset, this.#offset + maxBytes);
    this.#offset += chunk.length;
    return chunk;
  }
  /** Lets the bytes go (a reused handler instance may keep the stream): reads see the end. */
  release(): void {
    this.#bytes = new Uint8Array();
    this.#offset = 0;
  }
}

export interface ByteSink {
  write(bytes: Uint8Array): void;
  flush?(): void;
}

const closed = () => new WasiError({ tag: 'closed' });
const failed = (error: NodeJS.ErrnoException) =>
  new WasiError({ tag: 'last-operation-failed', val: new IoError(error.message, error.code) });

// WIT lengths are u64; hosts never hand out more than this per call
const MAX_CHUNK_BYTES = 1 << 20;
const clampLength = (length: bigint): number => Number(length > BigInt(MAX_CHUNK_BYTES) ? BigInt(MAX_CHUNK_BYTES) : length);

export class InputStream {
  constructor(
    private readonly source: ByteSource,
    private readonly control: GuestControl,
  ) {}
  read(length: bigint): Uint8Array {
    this.control.checkStop();
    const bytes = guard(() => this.source.read(clampLength(length)));
    if (bytes === undefined) throw closed();
    return bytes;
  }
  blockingRead(length: bigint): Uint8Array {
    this.source.waitReadable?.(this.control);
    return this.read(length);
  }
  skip(length: bigint): bigint {
    return BigInt(this.read(length).length);
  }
  blockingSkip(length: bigint): bigint {
    this.source.waitReadable?.(this.control);
    return this.skip(length);
  }
  subscribe(): Pollable {
    const { source } = this;
    if (source.waitReadable && source.isReadable !== undefined) {
      return new SourcePollable(this.control, source as ConstructorParameters<typeof SourcePollable>[1]);
    }
    return new Pollable(this.control);
  }
}

export class OutputStream {
  #closed = false;
  constructor(
    private readonly sink: ByteSink,
    private readonly control: GuestControl,
  ) {}
  checkWrite(): bigint {
    if (this.#closed) throw closed();
    return BigInt(MAX_CHUNK_BYTES);
  }
  write(contents: Uint8Array): void {
    this.control.checkStop();
    if (this.#closed) throw closed();
    guard(() => this.sink.write(contents));
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
    this.flush();
  }
  flush(): void {
    if (this.#closed) throw closed();
    guard(() => this.sink.flush?.());
  }
  blockingFlush(): void {
    this.flush();
  }
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
  writeZeroes(length: bigint): void {
    this.write(new Uint8Array(clampLength(length)));
  }
  blockingWriteZeroesAndFlush(length: bigint): void {
    this.blockingWriteAndFlush(new Uint8Array(clampLength(length)));
  }
  splice(source: InputStream, length: bigint): bigint {
    const bytes = source.read(length);
    this.write(bytes);
    return BigInt(bytes.length);
  }
  blockingSplice(source: InputStream, length: bigint): bigint {
    return this.splice(source, length);
  }
  /** Marks the stream closed, e.g. when its file descriptor is dropped. */
  close(): void {
    this.#closed = true;
  }
}

function guard<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (error instanceof WasiError || typeof errno !== 'string') throw error;
    throw failed(error as NodeJS.ErrnoException); // an I/O errno: report it as last-operation-failed, do not trap
  }
}

/** The wasi:io/streams and wasi:io/error import objects. */
export const ioStreamsImports = { InputStream, OutputStream };
export const ioErrorImports = { Error: IoError };
