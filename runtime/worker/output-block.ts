// A handler instance's output on its way to the runtime (decision 053's hot path): the worker
// appends what the guest writes to stdout/stderr into a block of shared memory instead of posting
// a message per write; the runtime reads the block when the request ends (the `handled` or `ended`
// message: one message per request instead of one per line plus one for the response) and after it
// terminated or lost the worker (a timeout, a crash), so a request killed mid-call still leaves its
// last lines in the logs. The worker posts the block itself (as `output` messages) when it is full or
// has held output for FLUSH_AFTER_MS, so a long request's lines are late by at most that much while
// it keeps writing. Only one side touches the block at a time: the worker while a request runs, the
// runtime once the worker reported the request's end (it sends the next request after reading) or
// is gone. Layout: Int32 [0] = bytes used; then records [stream: u8][length: u32 LE][bytes].
export type OutputStreamName = 'stdout' | 'stderr';

/** Bytes of output a block holds before the worker posts it. */
export const OUTPUT_BLOCK_BYTES = 64 * 1024;
/** Output held longer than this is posted at the guest's next write. */
export const FLUSH_AFTER_MS = 50;

const HEADER = 8; // the used-bytes counter, padded
const RECORD_HEADER = 5;

export function createOutputBlock(bytes = OUTPUT_BLOCK_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + bytes);
}

type Deliver = (stream: OutputStreamName, chunk: Uint8Array) => void;

/** Reads and empties the block: each record becomes one chunk of its own (a copy). */
export function drainOutputBlock(block: SharedArrayBuffer, deliver: Deliver): void {
  const used = new Int32Array(block, 0, 1);
  const length = Atomics.load(used, 0);
  if (length <= 0) return;
  const bytes = new Uint8Array(block, HEADER);
  const view = new DataView(block, HEADER);
  // a block that does not parse (only a worker gone mad could write one) is dropped, not trusted
  for (let at = 0; at + RECORD_HEADER <= length; ) {
    const size = view.getUint32(at + 1, true);
    const end = at + RECORD_HEADER + size;
    if (end > length) break;
    deliver(bytes[at] === 1 ? 'stderr' : 'stdout', bytes.slice(at + RECORD_HEADER, end));
    at = end;
  }
  Atomics.store(used, 0, 0);
}

/** The worker's side: appends writes, posts them itself when the block is full or old. */
export class OutputBlockWriter {
  readonly #block: SharedArrayBuffer;
  readonly #used: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;
  #heldSince = 0;

  constructor(
    block: SharedArrayBuffer,
    private readonly post: Deliver,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#block = block;
    this.#used = new Int32Array(block, 0, 1);
    this.#bytes = new Uint8Array(block, HEADER);
    this.#view = new DataView(block, HEADER);
    this.#capacity = this.#bytes.length;
  }

  /** Appends `bytes` (copied: they may be a view into guest memory). */
  write(stream: OutputStreamName, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const record = RECORD_HEADER + bytes.length;
    let used = Atomics.load(this.#used, 0);
    if (used > 0 && (used + record > this.#capacity || this.now() - this.#heldSince >= FLUSH_AFTER_MS)) {
      this.flush();
      used = 0;
    }
    if (record > this.#capacity) {
      this.post(stream, bytes.slice()); // larger than the block: on its own
      return;
    }
    if (used === 0) this.#heldSince = this.now();
    this.#bytes[used] = stream === 'stderr' ? 1 : 0;
    this.#view.setUint32(used + 1, bytes.length, true);
    this.#bytes.set(bytes, used + RECORD_HEADER);
    // published after the bytes: a reader after a kill sees whole records only
    Atomics.store(this.#used, 0, used + record);
  }

  /** Posts what the block holds and empties it. */
  flush(): void {
    drainOutputBlock(this.#block, this.post);
  }
}
