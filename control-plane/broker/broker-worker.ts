// The embedded broker's worker thread: aedes, its ACL hooks, the packet-size guard and the retained
// index run here, on their own event loop (the second core), decision 069. Authentication reads a
// CredentialTable the main thread keeps current; log records go back to the main thread's logger.
import { parentPort, workerData } from 'node:worker_threads';
import type { ChannelLogger } from '../../api/mqtt/channel-logger.js';
import type { BrokerWorkerData, FromWorker, LogLevel, ToWorker } from './broker-worker-messages.js';
import { isLogged } from './broker-worker-messages.js';
import { CredentialTable } from './credential-table.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';

const port = parentPort!;
const data = workerData as BrokerWorkerData;
const post = (message: FromWorker) => port.postMessage(message);

const record = (level: LogLevel) => (fields: object, message: string) => {
  if (!isLogged(level, data.logLevel)) return;
  try {
    post({ type: 'log', level, fields, message });
  } catch {
    post({ type: 'log', level, fields: {}, message }); // fields that cannot be cloned
  }
};
const logger: ChannelLogger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

const table = new CredentialTable(data.credentials);
let broker: EmbeddedBroker | undefined;

port.on('message', (message: ToWorker) => {
  if (message.type === 'credentials') {
    try {
      for (const change of message.changes) table.apply(change);
      post({ type: 'ack', id: message.id });
    } catch (error) {
      post({ type: 'ack', id: message.id, error: String(error) });
    }
  } else if (message.type === 'memory') {
    const m = process.memoryUsage(); // in a worker: this isolate's heap and external memory
    post({ type: 'memory', id: message.id, memory: { heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers } });
  } else if (message.type === 'close') {
    void (broker?.close() ?? Promise.resolve()).then(
      () => post({ type: 'ack', id: message.id }),
      (error: unknown) => post({ type: 'ack', id: message.id, error: String(error) }),
    );
  }
});

try {
  broker = await startEmbeddedBroker({
    host: data.host,
    port: data.port,
    ...(data.tls ? { tls: data.tls } : {}),
    ...(data.maxPacketBytes !== undefined ? { maxPacketBytes: data.maxPacketBytes } : {}),
    ...(data.connectTimeoutMs !== undefined ? { connectTimeoutMs: data.connectTimeoutMs } : {}),
    logger,
    authenticator: (username, password) => table.authenticate(username, password),
  });
  post({ type: 'listening', port: broker.port, url: broker.url });
} catch (error) {
  post({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
}
