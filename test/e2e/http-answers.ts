// What the e2e suites that reach pods from outside share: a free port to give a hostPort, polling a
// URL until its answer is the one expected (the chain comes up piece by piece), and example
// manifests with probe timeouts that tolerate a loaded machine.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { waitFor as poll } from '../mqtt/wait-for.js';

/** SKIFF_TEST_TRACE=1: print each new answer (how the chain comes up). */
const TRACE = Boolean(process.env['SKIFF_TEST_TRACE']);

/** A port free on `host` right now (for a hostPort or a closed address). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GETs `url` until `accept` takes the answer; the error names the last answer seen. */
export async function answer(url: string, accept: (status: number, body: string) => boolean, timeoutMs = 60_000, intervalMs = 200) {
  let last = 'nothing';
  const seen = (what: string) => {
    if (TRACE && last !== what) console.log(new Date().toISOString(), what);
    last = what;
  };
  try {
    return await poll(url, async () => {
      try {
        const response = await fetch(url);
        const body = await response.text();
        seen(`${response.status} ${body}`);
        return accept(response.status, body) ? { status: response.status, body } : undefined;
      } catch (error) {
        seen(String(error));
        return undefined;
      }
    }, { timeoutMs, intervalMs });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last answer: ${last}`);
  }
}

/**
 * Probe timeout for e2e manifests. Kubernetes' default (1 s) measures this machine's load more than
 * the guest: with 2 cores shared by several suites an instance-per-request probe answers in 1-3 s, its
 * pod flaps unready and its Service loses endpoints. A broken probe still fails (wrong status, refused,
 * no answer at all), so this hides no defect the suites look for.
 */
export const E2E_PROBE_TIMEOUT_SECONDS = 10;

/** A probe's settings as e2e manifests write them: load-tolerant timeout unless the test sets one. */
export function loadTolerantProbes(yaml: string): string {
  if (yaml.includes('timeoutSeconds')) return yaml; // the manifest chose its own
  return yaml.replace(/^(\s*)periodSeconds: (\d+)$/gm, `$1periodSeconds: $2\n$1timeoutSeconds: ${E2E_PROBE_TIMEOUT_SECONDS}`)
    .replace(/(periodSeconds: \d+)( })/g, `$1, timeoutSeconds: ${E2E_PROBE_TIMEOUT_SECONDS}$2`);
}

/** An example's manifest (wasm-examples/PATH) with load-tolerant probes and, optionally, its hostPort 8081 moved. */
export function exampleManifest(path: string, options: { hostPort?: number } = {}): string {
  const yaml = loadTolerantProbes(readFileSync(`wasm-examples/${path}`, 'utf8'));
  return options.hostPort === undefined ? yaml : yaml.replace('hostPort: 8081', `hostPort: ${options.hostPort}`);
}
