// The embedded broker in a worker thread (decision 069): the main thread starts it, keeps its
// credential table current (every change acknowledged before the caller goes on) and restarts it
// on the same port when it dies unasked, with the table as it stands. Clients reconnect as after
// any broker restart (the node channel republishes desired states, agents their presence).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../../api/clock.js';
import { silentLogger, type ChannelLogger } from '../../api/mqtt/channel-logger.js';
import type { BrokerThreadMemory, BrokerWorkerData, FromWorker, ToWorker } from './broker-worker-messages.js';
export type { BrokerThreadMemory } from './broker-worker-messages.js';
import { checkCredentialChange, type CredentialChange, type CredentialEntry } from './credential-table.js';
import type { EmbeddedBroker } from './embedded-broker.js';

export interface WorkerBrokerOptions {
  host: string;
  /** 0 picks a free port (kept across restarts). */
  port: number;
  tls?: { key: string; cert: string };
  maxPacketBytes?: number;
  connectTimeoutMs?: number;
  /** Who may connect at start; later changes go through `update`. */
  credentials: Iterable<CredentialEntry>;
  logger?: ChannelLogger;
  /** The logger's level (pino name): the worker posts no records below it. Default `info`. */
  logLevel?: string;
  clock?: Clock;
  /** Wait before restarting a dead worker: doubles for each death within a minute of the last start (default 100 ms .. 10 s). */
  restartDelayMs?: { initial: number; max: number };
}

export interface WorkerBroker extends EmbeddedBroker {
  /** Applies credential changes in the worker; resolves once it answers CONNECTs with them. */
  update(changes: readonly CredentialChange[]): Promise<void>;
  /** How many times the worker died unasked and was restarted. */
  readonly restarts: number;
  /** Milliseconds the broker threads' event loops have been busy (wall time, not idle), over every worker so far. */
  busyMs(): number;
  /** The broker thread's heap and external memory as it reports it (undefined while no worker runs). */
  memory(): Promise<BrokerThreadMemory | undefined>;
  /** Fault drill: ends the worker as a crash would (it is then restarted). */
  kill(): Promise<void>;
  /** Closes the broker, runs `whileDown`, starts it again on the same port (all retained state forgotten). */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

export class BrokerWorkerFailedError extends Error {
  override readonly name = 'BrokerWorkerFailedError';
}

const isTypeScriptSource = import.meta.url.endsWith('.ts');

/** Node 20 workers ignore `--import tsx`: under vitest/tsx the .ts entry is loaded through tsx's API (as runtime/worker-entry.ts). */
function createBrokerWorker(data: BrokerWorkerData): Worker {
  if (!isTypeScriptSource) return new Worker(new URL('./broker-worker.js', import.meta.url), { workerData: data });
  const tsxApiCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsxApi = pathToFileURL(tsxApiCjs.replace(/index\.cjs$/, 'index.mjs')).href;
  const entryUrl = new URL('./broker-worker.ts', import.meta.url).href;
  const script = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(entryUrl)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(script, { eval: true, workerData: data });
}

interface Running {
  worker: Worker;
  port: number;
  url: string;
}

export async function startWorkerBroker(options: WorkerBrokerOptions): Promise<WorkerBroker> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const delays = options.restartDelayMs ?? { initial: 100, max: 10_000 };
  const table = new Map<string, CredentialEntry>();
  for (const entry of options.credentials) {
    checkCredentialChange({ set: entry });
    table.set(entry.username, entry);
  }
  let port = options.port;
  let nextId = 1;
  /** Requests the current worker has not answered; a dead worker's are settled by its successor's start. */
  let pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /** memory() requests in flight: a worker that ends first answers undefined. */
  const memoryRequests = new Map<number, (memory: BrokerThreadMemory | undefined) => void>();
  let closing = false;
  let restarts = 0;
  let startedAt = 0;
  let delayMs = delays.initial;
  let restarting: Promise<void> | undefined;

  const spawn = (): Promise<Running> => new Promise((resolve, reject) => {
    const data: BrokerWorkerData = {
      host: options.host, port, logLevel: options.logLevel ?? 'info', credentials: [...table.values()],
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.maxPacketBytes !== undefined ? { maxPacketBytes: options.maxPacketBytes } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    };
    const worker = createBrokerWorker(data);
    let isListening = false;
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'log': return logger[message.level](message.fields, message.message);
        case 'listening':
          isListening = true;
          return resolve({ worker, port: message.port, url: message.url });
        case 'failed':
          void worker.terminate();
          return reject(new BrokerWorkerFailedError(`embedded broker did not start: ${message.error}`));
        case 'memory': {
          memoryRequests.get(message.id)?.(message.memory);
          memoryRequests.delete(message.id);
          return;
        }
        case 'ack': {
          const request = pending.get(message.id);
          pending.delete(message.id);
          if (message.error !== undefined) request?.reject(new BrokerWorkerFailedError(message.error));
          else request?.resolve();
        }
      }
    });
    worker.on('error', (error) => logger.error({ err: error.stack ?? error.message }, 'embedded broker worker failed'));
    worker.on('exit', (code) => {
      for (const answer of memoryRequests.values()) answer(undefined);
      memoryRequests.clear();
      if (!isListening) return reject(new BrokerWorkerFailedError(`embedded broker worker exited with code ${code} before listening`));
      if (running?.worker !== worker) return; // closed or restarted on purpose

      onDeath(code);
    });
  });

  /** Busy time of the workers that ended (restarts, drills). */
  let endedBusyMs = 0;
  const busyOf = (worker: Worker) => worker.performance.eventLoopUtilization().active;
  let running: Running | undefined = await spawn();
  port = running.port;
  const url = running.url;
  startedAt = clock.now();
  logger.info({ port, threadId: running.worker.threadId }, 'embedded mqtt broker worker started');

  const onDeath = (code: number) => {
    running = undefined; // (a dead thread's busy time can no longer be read)
    restarts += 1;
    // a worker that dies soon after its start is waited for longer each time (a crash loop does not spin)
    delayMs = clock.now() - startedAt < 60_000 ? Math.min(delayMs * 2, delays.max) : delays.initial;
    const waitMs = restarts === 1 ? delays.initial : delayMs;
    logger.error({ code, restarts, restartInMs: waitMs }, 'embedded mqtt broker worker died: restarting it on the same port');
    restarting = new Promise<void>((done) => clock.setTimeout(() => void restart().finally(done), waitMs));
  };

  const restart = async (): Promise<void> => {
    if (closing) return;
    const orphans = pending;
    pending = new Map();
    try {
      running = await spawn();
      startedAt = clock.now();
      // the new worker started from the whole table: what the dead one did not acknowledge is in force
      for (const request of orphans.values()) request.resolve();
      logger.warn({ port, restarts }, 'embedded mqtt broker worker restarted');
    } catch (error) {
      logger.error({ err: String(error) }, 'embedded mqtt broker worker could not restart');
      pending = orphans;
      onDeath(-1);
    }
  };

  const sendChanges = (changes: CredentialChange[]): Promise<void> => {
    const current = running;
    // while a dead worker is being replaced, its successor starts from the table: nothing to send
    if (!current) return restarting ?? Promise.resolve();
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      current.worker.postMessage({ type: 'credentials', id, changes } satisfies ToWorker);
    });
  };

  return {
    get port() { return port; },
    get url() { return url; },
    get restarts() { return restarts; },
    busyMs: () => endedBusyMs + (running ? busyOf(running.worker) : 0),
    memory() {
      const current = running;
      if (!current) return Promise.resolve(undefined);
      const id = nextId++;
      return new Promise((resolve) => {
        memoryRequests.set(id, resolve);
        current.worker.postMessage({ type: 'memory', id } satisfies ToWorker);
      });
    },
    async update(changes) {
      changes.forEach(checkCredentialChange); // all or nothing: a bad change applies none
      for (const change of changes) {
        if ('remove' in change) table.delete(change.remove);
        else table.set(change.set.username, change.set);
      }
      if (changes.length > 0) await sendChanges([...changes]);
    },
    async kill() {
      const current = running;
      if (!current) return;
      await current.worker.terminate();
    },
    async restart(whileDown) {
      if (closing) throw new BrokerWorkerFailedError('the broker is closed');
      await restarting;
      await stopWorker();
      try {
        await whileDown?.();
      } finally {
        running = await spawn();
        startedAt = clock.now();
      }
    },
    async close() {
      if (closing) return;
      closing = true;
      await restarting;
      await stopWorker();
    },
  };

  /** Closes the broker in the worker (its clients' sockets too), then ends the thread. */
  async function stopWorker(): Promise<void> {
    const current = running;
    running = undefined; // its exit is not a death
    if (!current) return;
    endedBusyMs += busyOf(current.worker);
    const id = nextId++;
    const closed = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }));
    const exited = new Promise<void>((resolve) => current.worker.once('exit', () => resolve()));
    current.worker.postMessage({ type: 'close', id } satisfies ToWorker);
    await Promise.race([closed, exited]).catch((error: Error) => logger.warn({ err: error.message }, 'embedded broker close failed'));
    await current.worker.terminate();
    await exited;
    // credential changes it did not acknowledge are in the table its successor (if any) starts from
    for (const request of pending.values()) request.resolve();
    pending.clear();
  }
}
