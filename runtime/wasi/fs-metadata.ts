// wasi:filesystem's view of host files: descriptor types, stat records, timestamps, metadata
// hashes and directory-entry streams, from node:fs's Stats and Dirents (filesystem.ts).
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Datetime } from './clocks.js';
import { WasiError, withFilesystemErrors } from './wasi-errors.js';

export type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };
export type DescriptorType = 'unknown' | 'block-device' | 'character-device' | 'directory' | 'fifo' | 'symbolic-link' | 'regular-file' | 'socket';

export const utf8 = new TextDecoder('utf-8', { fatal: true });

interface DirectoryEntry { name: string; type: DescriptorType }
export class DirectoryEntryStream {
  #next = 0;
  constructor(private readonly entries: Array<{ name: Buffer; type: () => DescriptorType }>) {}
  readDirectoryEntry(): DirectoryEntry | undefined {
    const entry = this.entries[this.#next++];
    if (!entry) return undefined;
    let name: string;
    try {
      name = utf8.decode(entry.name);
    } catch {
      throw new WasiError('illegal-byte-sequence');
    }
    return { name, type: withFilesystemErrors(entry.type) };
  }
}

/** Offsets are u64 in WIT; node:fs takes safe integers (beyond that no file is that large). */
export function safeOffset(offset: bigint): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError('file-too-large');
  return Number(offset);
}

export const isUnknown = (entry: fs.Dirent<Buffer>): boolean =>
  !entry.isFile() && !entry.isDirectory() && !entry.isSymbolicLink() && !entry.isFIFO() && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice();
export const lstatType = (path: string): DescriptorType => typeOf(fs.lstatSync(path));

export function typeOf(entry: fs.Dirent<Buffer> | fs.Stats | fs.BigIntStats): DescriptorType {
  if (entry.isFile()) return 'regular-file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symbolic-link';
  if (entry.isFIFO()) return 'fifo';
  if (entry.isSocket()) return 'socket';
  if (entry.isBlockDevice()) return 'block-device';
  if (entry.isCharacterDevice()) return 'character-device';
  return 'unknown';
}

const datetimeOf = (ns: bigint): Datetime => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });

export function statOf(stat: fs.BigIntStats) {
  return {
    type: typeOf(stat),
    linkCount: stat.nlink,
    size: stat.size,
    dataAccessTimestamp: datetimeOf(stat.atimeNs),
    dataModificationTimestamp: datetimeOf(stat.mtimeNs),
    statusChangeTimestamp: datetimeOf(stat.ctimeNs),
  };
}

// node's utimes takes seconds as a number: sub-microsecond precision is lost
export function timeOf(timestamp: NewTimestamp, currentNs: bigint): number {
  if (timestamp.tag === 'now') return Date.now() / 1000;
  const ns = timestamp.tag === 'timestamp' ? timestamp.val.seconds * 1_000_000_000n + BigInt(timestamp.val.nanoseconds) : currentNs;
  return Number(ns) / 1e9;
}

/** Identifies a file by device and inode only (as wasmtime), so it does not change when the file does. */
export function hashOf(stat: fs.BigIntStats): { lower: bigint; upper: bigint } {
  const digest = createHash('sha256').update(`${stat.dev}:${stat.ino}`).digest();
  return { lower: digest.readBigUInt64LE(0), upper: digest.readBigUInt64LE(8) };
}
