// What the main thread and the embedded broker's worker thread say to each other (broker-worker.ts,
// worker-broker.ts). Both ends are this process: the messages are trusted, only typed.
import type { CredentialChange, CredentialEntry } from './credential-table.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, silent: 6 };

/** Does a record at `level` pass a logger set to `threshold` (a pino level name)? */
export const isLogged = (level: LogLevel, threshold: string): boolean => RANK[level]! >= (RANK[threshold] ?? RANK['info']!);

/** The worker's start: where to listen and who may connect. */
export interface BrokerWorkerData {
  host: string;
  port: number;
  tls?: { key: string; cert: string };
  maxPacketBytes?: number;
  connectTimeoutMs?: number;
  /** Records below it are not posted (pino level name). */
  logLevel: string;
  credentials: CredentialEntry[];
}

export type ToWorker =
  | { type: 'credentials'; id: number; changes: CredentialChange[] }
  | { type: 'close'; id: number }
  | { type: 'memory'; id: number };

/** The worker isolate's memory (process.memoryUsage() in the worker: its own heap, external and ArrayBuffers; rss is the process's). */
export interface BrokerThreadMemory {
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

export type FromWorker =
  | { type: 'listening'; port: number; url: string }
  | { type: 'failed'; error: string }
  | { type: 'ack'; id: number; error?: string }
  | { type: 'memory'; id: number; memory: BrokerThreadMemory }
  | { type: 'log'; level: LogLevel; fields: object; message: string };
