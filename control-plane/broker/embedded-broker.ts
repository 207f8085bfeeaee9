// The embedded MQTT broker (aedes 1.x, MQTT 3.1.1) on a loopback/LAN TCP port, enforcing broker-acl.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { ChannelLogger } from '../../api/mqtt/channel-logger.js';
import { silentLogger } from '../../api/mqtt/channel-logger.js';
import { canPublish, canSubscribe, isClientIdAllowed, isKeepaliveAllowed, MAX_CLIENT_KEEPALIVE_SECONDS, MAX_PACKET_BYTES, type Identity } from './broker-acl.js';
import { guardPacketSize } from './packet-size-guard.js';
import { indexRetained } from './retained-index.js';

export type Authenticator = (username: string, password: string) => Identity | undefined;

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  authenticator: Authenticator;
  logger?: ChannelLogger;
  maxPacketBytes?: number;
  /** How long a socket may stay silent before CONNECT arrives. */
  connectTimeoutMs?: number;
  /** Serve MQTT over TLS (mqtts://) with this key and certificate (the control plane's, from its CA). */
  tls?: { key: string; cert: string };
}

export interface EmbeddedBroker {
  port: number;
  url: string;
  close(): Promise<void>;
}

// CONNACK return codes of MQTT 3.1.1 (aedes' AuthErrorCode is a const enum we cannot import at runtime).
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

class ConnectRefusedError extends Error implements AuthenticateError {
  override readonly name = 'ConnectRefusedError';
  constructor(readonly returnCode: number, message: string) {
    super(message);
  }
}

class PublishDeniedError extends Error {
  override readonly name = 'PublishDeniedError';
}

/**
 * No bound on aedes' deliveries in flight. With its default (mqemitter concurrency 100), messages
 * emitted while 100 deliveries are held queue up, and the queue drains recursively, one stack frame
 * set per message that completes at once (no subscriber): thousands of agents dropping together
 * overflowed the control plane's stack (mcollina/mqemitter#204). The bound never limited memory (the
 * queue has none); deliveries keep their order, and each client's writes their own backpressure.
 */
export const AEDES_QUEUE_OPTIONS = { concurrency: 0 } as const;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const logger = options.logger ?? silentLogger;
  const identities = new WeakMap<Client, Identity>();
  /** The CONNECT's keepalive, seen by preConnect (authenticate is not given the packet). */
  const keepalives = new WeakMap<Client, number>();
  const aedes = await Aedes.createBroker({
    ...AEDES_QUEUE_OPTIONS,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    preConnect(client, packet, callback) {
      keepalives.set(client, packet.keepalive ?? 0);
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const identity = username !== undefined && password !== undefined
        ? safeAuthenticate(options.authenticator, username, password.toString('utf8'), logger)
        : undefined;
      if (!identity) {
        logger.warn({ clientId: client.id, username }, 'mqtt connect refused: bad credentials');
        return done(new ConnectRefusedError(BAD_USERNAME_OR_PASSWORD, 'bad username or password') as AuthenticateError, false);
      }
      if (!isClientIdAllowed(identity, username!, client.id)) {
        logger.warn({ clientId: client.id, username }, 'mqtt connect refused: clientId does not match identity');
        return done(new ConnectRefusedError(IDENTIFIER_REJECTED, 'clientId does not match identity') as AuthenticateError, false);
      }
      const keepalive = keepalives.get(client) ?? 0;
      if (!isKeepaliveAllowed(identity, keepalive)) {
        logger.warn({ clientId: client.id, username, keepalive }, `mqtt connect refused: keepalive must be 1-${MAX_CLIENT_KEEPALIVE_SECONDS} s`);
        return done(new ConnectRefusedError(NOT_AUTHORIZED, `keepalive must be 1-${MAX_CLIENT_KEEPALIVE_SECONDS} s`) as AuthenticateError, false);
      }
      // aedes keeps the CONNECT's Will in a private field until authentication succeeds.
      const will = (client as unknown as { _will?: PublishPacket | null })._will;
      if (will) {
        const decision = canPublish(identity, will.topic, payloadBytes(will.payload), will.retain);
        if (!decision.allowed) {
          logger.warn({ clientId: client.id, reason: decision.reason }, 'mqtt connect refused: Will not allowed');
          return done(new ConnectRefusedError(NOT_AUTHORIZED, decision.reason) as AuthenticateError, false);
        }
      }
      identities.set(client, identity);
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      const identity = client ? identities.get(client) : undefined;
      if (!identity) return callback(new PublishDeniedError('publisher has no identity'));
      const decision = canPublish(identity, packet.topic, payloadBytes(packet.payload), packet.retain);
      if (!decision.allowed) {
        logger.warn({ clientId: client?.id, topic: packet.topic, reason: decision.reason }, 'mqtt publish denied');
        return callback(new PublishDeniedError(decision.reason));
      }
      callback(null);
    },
    authorizeSubscribe(client, subscription: Subscription, callback) {
      const identity = identities.get(client);
      const decision = identity ? canSubscribe(identity, subscription.topic) : { allowed: false as const, reason: 'no identity' };
      if (!decision.allowed) {
        logger.warn({ clientId: client.id, topic: subscription.topic, reason: decision.reason }, 'mqtt subscribe denied');
        return callback(null, null); // SUBACK 0x80, the connection stays up
      }
      callback(null, subscription);
    },
  });
  // aedes' typings do not show its persistence; the memory one is created by createBroker
  indexRetained((aedes as unknown as { persistence: Parameters<typeof indexRetained>[0] }).persistence);
  aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'mqtt client error'));
  aedes.on('connectionError', (_client, error) => logger.debug({ err: error.message }, 'mqtt connection error'));

  const maxPacketBytes = options.maxPacketBytes ?? MAX_PACKET_BYTES;
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true); // small MQTT acks must not wait for Nagle + delayed ACK (~40 ms a round trip)
    socket.on('close', () => sockets.delete(socket));
    const guarded = guardPacketSize(socket, maxPacketBytes, (error) => {
      logger.warn({ remote: socket.remoteAddress, err: error.message }, 'mqtt connection dropped');
    });
    aedes.handle(guarded);
  };
  const server: Server = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }, onSocket)
        .on('tlsClientError', (error) => logger.debug({ err: error.message }, 'mqtts handshake failed'))
    : createServer(onSocket);
  server.on('error', (error) => logger.error({ err: error.message }, 'mqtt listener error'));
  const port = await listen(server, options.host, options.port);
  logger.info({ host: options.host, port }, 'embedded mqtt broker listening');

  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await serverClosed;
    },
  };
}

/** A throwing authenticator refuses the client instead of taking the broker down. */
function safeAuthenticate(authenticator: Authenticator, username: string, password: string, logger: ChannelLogger): Identity | undefined {
  try {
    return authenticator(username, password);
  } catch (error) {
    logger.error({ username, err: String(error) }, 'mqtt authenticator failed');
    return undefined;
  }
}

function payloadBytes(payload: PublishPacket['payload'] | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
