// Byte sources and sinks over a host file descriptor, for wasi:filesystem's read/write streams.
import * as fs from 'node:fs';
import type { ByteSink, ByteSource } from './io.js';

export class FileSource implements ByteSource {
  constructor(private readonly fd: number, private position: number) {}
  read(maxBytes: number): Uint8Array | undefined {
    const buffer = new Uint8Array(maxBytes);
    const count = fs.readSync(this.fd, buffer, 0, maxBytes, this.position);
    if (count === 0 && maxBytes > 0) return undefined;
    this.position += count;
    return buffer.subarray(0, count);
  }
}

export class FileSink implements ByteSink {
  constructor(private readonly fd: number, private position: number | 'append') {}
  write(bytes: Uint8Array): void {
    let position = this.position === 'append' ? fs.fstatSync(this.fd).size : this.position;
    for (let done = 0; done < bytes.length; ) {
      const count = fs.writeSync(this.fd, bytes, done, bytes.length - done, position);
      done += count;
      position += count;
    }
    if (this.position !== 'append') this.position = position;
  }
}
