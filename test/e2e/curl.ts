// curl as the e2e tests use it on the way in from outside (NodePort, LoadBalancer, Ingress).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor as poll } from '../mqtt/wait-for.js';

const run = promisify(execFile);

/** curl -i: status, headers (lower-case names) and body; `source` binds the client's address. */
export async function curl(url: string, options: { source?: string; host?: string } = {}) {
  const args = ['-sS', '-i', '--max-time', '30', ...(options.source ? ['--interface', options.source] : []), ...(options.host ? ['-H', `Host: ${options.host}`] : []), url];
  const { stdout } = await run('/usr/bin/curl', args, { timeout: 40_000 });
  const [head = '', ...rest] = stdout.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

type Answer = Awaited<ReturnType<typeof curl>>;

/** curls until `accept` takes the answer; the last answer is in the error. */
export async function until(url: string, accept: (a: Answer) => boolean, options: { source?: string; host?: string; timeoutMs?: number } = {}): Promise<Answer> {
  let last = 'nothing';
  try {
    return await poll(url, () => curl(url, options).then((a) => {
      last = `${a.status} ${JSON.stringify(a.headers)} ${a.body}`;
      return accept(a) ? a : undefined;
    }, (e: Error) => {
      last = e.message;
      return undefined;
    }), { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200 });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last answer: ${last}`);
  }
}

