import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool, TOOL_PATHS } from '../support/tools.js';

const run = promisify(execFile);

/** `skiff up` as a user runs it (from the build in dist/), driven by the real kubectl. */
describe.skipIf(!hasTool('kubectl', 'kubectl e2e'))('skiff up with the real kubectl', () => {
  let dataDir: string;
  let up: ChildProcess;
  let output = '';
  const kubectl = async (...args: string[]) => {
    const { stdout } = await run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig') }, timeout: 60_000 });
    return stdout;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-up-'));
    up = spawn(process.execPath, ['bin/skiff.js', 'up', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--agents', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    up.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await new Promise<void>((resolve, reject) => {
      up.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        if (output.includes('skiff is ready')) resolve();
      });
      up.on('exit', (code) => reject(new Error(`skiff up exited with ${code}:\n${output}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGTERM');
      await exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints how to use the kubeconfig it wrote', () => {
    expect(output).toContain(`export KUBECONFIG=${join(dataDir, 'kubeconfig')}`);
    // the broker speaks mqtts:// by default, and remote agents are told how to join it
    expect(output).toMatch(/MQTT mqtts:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(new RegExp(`Join more agents with: skiff agent --server mqtts://127\\.0\\.0\\.1:\\d+ --ca-file ${join(dataDir, 'ca.crt')} --token \\$\\(cat ${join(dataDir, 'node-token')}\\) --name NAME`));
  });

  it('lists the agents as Ready nodes, each with its own loopback address as InternalIP', async () => {
    const nodes = await kubectl('get', 'nodes');
    expect(nodes).toMatch(/node-1\s+Ready/);
    expect(nodes).toMatch(/node-2\s+Ready/);
    const ips = await kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.addresses[?(@.type=="InternalIP")].address} {end}');
    expect(ips.trim().split(' ').sort()).toEqual(['node-1=127.0.0.2', 'node-2=127.0.0.3']);
  });

  it('applies the hello pod, runs it to Completed, shows its logs and deletes it', async () => {
    expect(await kubectl('apply', '-f', 'wasm-examples/hello/pod.yaml')).toContain('pod/hello created');
    await kubectl('wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/hello', '--timeout=60s');
    expect(await kubectl('get', 'pods')).toMatch(/hello\s+0\/1\s+Completed\s+0/);
    expect(await kubectl('logs', 'hello')).toMatch(/hello/i);
    expect(await kubectl('delete', 'pod', 'hello')).toContain('pod "hello" deleted');
    expect(await kubectl('get', 'pods', '-o', 'name')).not.toContain('pod/hello');
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
    up.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
