// A bounded per-container log: timestamped lines kept in a ring (oldest dropped first), with
// followers that receive new lines as they are written. A line without its newline yet is shown
// by reads and completed when the run that wrote it ends.

export interface LogLine {
  /** ms since epoch when the line (or its first chunk) was written */
  ts: number;
  stream: 'stdout' | 'stderr';
  text: string; // without the trailing newline
}

export interface LogReadOptions {
  tailLines?: number;
  sinceMs?: number;
  limitBytes?: number;
  /** Include a running container's unfinished last line (default true; a follower gets it once complete). */
  partial?: boolean;
}

export class LogBuffer {
  readonly #maxBytes: number;
  readonly #lines: LogLine[] = [];
  #bytes = 0;
  #partial: Partial<Record<'stdout' | 'stderr', { ts: number; text: string }>> = {};
  readonly #followers = new Set<(line: LogLine) => void>();
  readonly #closers = new Set<() => void>();
  #closed = false;

  constructor(maxBytes = 1 << 20, private readonly now: () => number = Date.now) {
    this.#maxBytes = maxBytes;
  }

  /** Appends raw output; complete lines become visible, a trailing partial line waits for its newline. */
  write(stream: 'stdout' | 'stderr', chunk: string): void {
    let pending = this.#partial[stream];
    let text = (pending?.text ?? '') + chunk;
    const ts = pending?.ts ?? this.now();
    let newline = text.indexOf('\n');
    let lineTs = ts;
    while (newline >= 0) {
      this.#push({ ts: lineTs, stream, text: text.slice(0, newline) });
      text = text.slice(newline + 1);
      lineTs = this.now();
      newline = text.indexOf('\n');
    }
    pending = text.length > 0 ? { ts: lineTs, text } : undefined;
    if (pending && pending.text.length > this.#maxBytes / 4) {
      // a guest that never writes a newline still gets logged, in bounded pieces
      this.#push({ ts: pending.ts, stream, text: pending.text });
      pending = undefined;
    }
    this.#partial[stream] = pending;
  }

  /** Makes partial lines complete ones: the run that wrote them has ended (nothing will follow them). */
  flush(): void {
    const partial = this.#partialLines();
    this.#partial = {};
    for (const line of partial) this.#push(line);
  }

  /** Flushes partial lines and ends every follower. */
  close(): void {
    this.flush();
    this.#closed = true;
    for (const done of this.#closers) done();
    this.#followers.clear();
    this.#closers.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The lines so far, a running container's unfinished last line included (as `kubectl logs` shows it). */
  read(options: LogReadOptions = {}): LogLine[] {
    const partial = options.partial === false ? [] : this.#partialLines();
    let lines = partial.length > 0 ? [...this.#lines, ...partial] : this.#lines;
    if (options.sinceMs !== undefined) lines = lines.filter((l) => l.ts >= options.sinceMs!);
    if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    if (options.limitBytes !== undefined) {
      const out: LogLine[] = [];
      let used = 0;
      for (const l of lines) {
        used += l.text.length + 1;
        if (used > options.limitBytes) break;
        out.push(l);
      }
      return out;
    }
    return [...lines];
  }

  /** Calls `onLine` for each new line until unsubscribed or the buffer closes (then `onClose`). */
  follow(onLine: (line: LogLine) => void, onClose: () => void): () => void {
    if (this.#closed) {
      onClose();
      return () => {};
    }
    this.#followers.add(onLine);
    this.#closers.add(onClose);
    return () => {
      this.#followers.delete(onLine);
      this.#closers.delete(onClose);
    };
  }

  /** Unfinished lines of both streams, oldest first. */
  #partialLines(): LogLine[] {
    return (['stdout', 'stderr'] as const).flatMap((stream) => {
      const p = this.#partial[stream];
      return p ? [{ ts: p.ts, stream, text: p.text }] : [];
    }).sort((a, b) => a.ts - b.ts);
  }

  #push(line: LogLine): void {
    this.#lines.push(line);
    this.#bytes += line.text.length + 1;
    while (this.#bytes > this.#maxBytes && this.#lines.length > 1) {
      const dropped = this.#lines.shift()!;
      this.#bytes -= dropped.text.length + 1;
    }
    for (const f of this.#followers) f(line);
  }
}

/** Formats a line as `kubectl logs` prints it (optionally with an RFC 3339 nano timestamp). */
export const formatLogLine = (line: LogLine, timestamps: boolean): string =>
  (timestamps ? `${new Date(line.ts).toISOString().replace('Z', '000000Z')} ` : '') + line.text + '\n';
