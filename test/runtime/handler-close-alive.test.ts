// Closing the runtime while a handler container keeps reused instances (decision 053): the idle
// instances' workers are unref'd, so while they retire nothing else may be keeping the process
// alive. It must still finish the close (a process whose only work left is `await runtime.close()`
// exited with code 13, "unsettled top-level await", before this was fixed: bench/ways-in-load.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = `
  import { readFileSync } from 'node:fs';
  import { WasmPodRuntime } from './runtime/wasm-pod-runtime.ts';
  import { digestOf } from './runtime/component-digest.ts';
  const runtime = new WasmPodRuntime({ warmWorkers: 1 });
  const bytes = new Uint8Array(readFileSync('wasm-examples/http-health/http-health.wasm'));
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const handler = await runtime.start({ id: 'web/0', component, args: ['http-health'], env: [] });
  const call = () => handler.handleHttp({ method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'web', headers: [], body: new Uint8Array() }, 60_000);
  const answers = await Promise.all(Array.from({ length: 4 }, call));
  await runtime.close();
  console.log('closed', answers.map((a) => a.status).join(','));
`;

describe('a runtime closed with reused handler instances idle', () => {
  it('finishes the close even when nothing else keeps the process alive', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: REPO });
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, ...out }));
    });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.stdout.trim()).toBe('closed 200,200,200,200');
    expect(result.code).toBe(0);
  }, 120_000);
});
