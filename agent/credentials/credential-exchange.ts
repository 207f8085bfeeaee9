// One bootstrap exchange: learn the API URL and CA from the control plane's retained presence (as
// the bootstrap MQTT user), then POST the bootstrap token over HTTPS for this node's credential.
import { request } from 'node:https';
import * as v from 'valibot';
import { cpPresenceMessage, type CpPresenceMessage } from '../../api/mqtt/messages.js';
import { BOOTSTRAP_MQTT_USER, nodeCredentialPath, nodeCredentialResponse } from '../../api/mqtt/node-credential.js';
import { topics } from '../../api/mqtt/topics.js';
import { connectMqtt } from '../mqtt-connect.js';

export interface ExchangeOptions {
  server: string;
  node: string;
  bootstrapToken: string;
  timeoutMs?: number;
  /** PEM CA of an mqtts:// broker. */
  ca?: string | undefined;
  /** Sent with every attempt of one exchange (api/mqtt/node-credential.ts): a lost answer can be asked for again. */
  retryKey?: string | undefined;
}

/** The control plane answered but refused: retrying with the same token will not help. */
export class CredentialRefusedError extends Error {
  override readonly name = 'CredentialRefusedError';
  readonly permanent = true;
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

export class CredentialExchangeError extends Error {
  override readonly name = 'CredentialExchangeError';
}

export async function exchangeBootstrapToken(options: ExchangeOptions): Promise<string> {
  const presence = await readControlPlanePresence(options);
  if (!presence.registryUrl) throw new CredentialExchangeError('the control plane did not announce its API URL');
  const url = new URL(nodeCredentialPath(options.node), presence.registryUrl);
  const request = JSON.stringify(options.retryKey ? { retryKey: options.retryKey } : {});
  const { status, body } = await postJson(url, options.bootstrapToken, request, presence.caCert, options.timeoutMs ?? 10_000);
  if (status === 409 || status === 401 || status === 403 || status === 422) {
    throw new CredentialRefusedError(status, `credential for node ${options.node} refused (${status}): ${body.slice(0, 300)}`);
  }
  if (status !== 200 && status !== 201) throw new CredentialExchangeError(`credential exchange answered ${status}: ${body.slice(0, 300)}`);
  return v.parse(nodeCredentialResponse, JSON.parse(body)).credential;
}

function readControlPlanePresence(options: ExchangeOptions): Promise<CpPresenceMessage> {
  return new Promise((resolve, reject) => {
    const client = connectMqtt(options.server, {
      ...(options.ca ? { ca: options.ca } : {}),
      protocolVersion: 4,
      clientId: `${BOOTSTRAP_MQTT_USER}/${options.node}`,
      username: BOOTSTRAP_MQTT_USER,
      password: options.bootstrapToken,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: options.timeoutMs ?? 10_000,
    });
    const timer = setTimeout(() => finish(new CredentialExchangeError('no control-plane presence on the broker')), options.timeoutMs ?? 10_000);
    let done = false;
    const finish = (result: CpPresenceMessage | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(true);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    client.on('connect', () => {
      client.subscribe(topics.cpPresence(), { qos: 1 }, (error) => {
        if (error) finish(new CredentialExchangeError(`bootstrap subscribe refused: ${error.message}`));
      });
    });
    client.on('message', (_topic, payload) => {
      try {
        const presence = v.parse(cpPresenceMessage, JSON.parse(payload.toString('utf8')));
        if (presence.online && presence.registryUrl) finish(presence);
      } catch {
        // not a usable presence: wait for the next one
      }
    });
    client.on('error', (error) => finish(new CredentialExchangeError(`bootstrap connect failed: ${error.message}`)));
    client.on('close', () => finish(new CredentialExchangeError('bootstrap connection closed')));
  });
}

function postJson(url: URL, token: string, payload: string, ca: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
      ...(ca ? { ca } : {}),
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new CredentialExchangeError('credential exchange timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
