// HTTP upgrade requests (the exec WebSocket) go through the same Hono app as every other request:
// the same path check, authentication and authorization, and the same routing. A handler that takes
// the connection over marks the upgrade accepted; any other answer is written to the socket as a
// plain HTTP response (a Status body), and the connection is closed.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What an upgrade request carries to its handler through the app (as Hono's `c.env.upgrade`). */
export interface UpgradeContext {
  incoming: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** Set by the handler that took the connection over; the listener then writes nothing. */
  accepted: boolean;
}

export const upgradeContext = (c: Context): UpgradeContext | undefined =>
  (c.env as { upgrade?: UpgradeContext } | undefined)?.upgrade;

export function routeUpgradesThrough(app: Hono): UpgradeListener {
  return (req, socket, head) => {
    socket.on('error', () => undefined); // a client gone mid-handshake is not our error
    const upgrade: UpgradeContext = { incoming: req, socket, head, accepted: false };
    void answer(app, upgrade).catch(() => socket.destroy());
  };
}

async function answer(app: Hono, upgrade: UpgradeContext): Promise<void> {
  const { incoming, socket } = upgrade;
  let response: Response;
  try {
    response = await app.fetch(toRequest(incoming), { incoming, upgrade });
  } catch {
    response = new Response('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"malformed upgrade request","reason":"BadRequest","code":400}',
      { status: 400, headers: { 'content-type': 'application/json' } });
  }
  if (upgrade.accepted) return;
  if (!socket.writable) return void socket.destroy();
  const body = Buffer.from(await response.arrayBuffer());
  const head = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}`];
  response.headers.forEach((value, name) => {
    if (!['content-length', 'connection', 'transfer-encoding'].includes(name)) head.push(`${name}: ${value}`);
  });
  head.push(`Content-Length: ${body.length}`, 'Connection: close');
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}

/** A fetch Request for the upgrade's request line and headers (no body); the raw target stays on `incoming`. */
function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const host = req.headers.host ?? 'localhost';
  const target = req.url ?? '/';
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target) : new URL(`https://${host}${target.startsWith('/') ? '' : '/'}${target}`);
  return new Request(url, { method: req.method ?? 'GET', headers });
}
