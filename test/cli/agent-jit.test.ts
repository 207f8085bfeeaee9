import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Runs dist/cli/agent-jit.js in a fresh node (V8 flags are per process) with argv like `skiff ARG`,
// spins a hot function before and after leaveIdleMode(), and returns V8's --trace-opt log.
async function traceOpt(subcommand: string): Promise<{ before: string; after: string }> {
  const url = pathToFileURL(resolve('dist/cli/agent-jit.js')).href;
  const script = `
    const { leaveIdleMode } = await import(${JSON.stringify(url)});
    const spin = () => { let s = 0; for (let i = 0; i < 1e6; i++) s = (s * 31 + i) | 0; return s; };
    for (let k = 0; k < 50; k++) spin();
    console.log('--- enabling');
    leaveIdleMode();
    for (let k = 0; k < 50; k++) spin();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--trace-opt', '--input-type=module', '-e', script, 'skiff', subcommand]);
  const [before = '', after = ''] = stdout.split('--- enabling');
  return { before, after };
}

const optimizedSpin = /completed (compiling|optimizing).*JSFunction spin/;

/** The young generation's size after a burst of short-lived allocations, before and after leaveIdleMode(). */
async function newSpaceMiB(subcommand: string): Promise<{ before: number; after: number }> {
  const url = pathToFileURL(resolve('dist/cli/agent-jit.js')).href;
  const script = `
    const { leaveIdleMode } = await import(${JSON.stringify(url)});
    const { getHeapSpaceStatistics } = await import('node:v8');
    const burst = () => { let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; } };
    const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    burst();
    const before = size();
    leaveIdleMode();
    burst();
    console.log(JSON.stringify({ before, after: size() }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, 'skiff', subcommand]);
  return JSON.parse(stdout) as { before: number; after: number };
}

describe('skiff agent\'s young generation', () => {
  it('stays at its initial size while idle, and may grow once the node has pods', async () => {
    const { before, after } = await newSpaceMiB('agent');
    expect(before).toBeLessThanOrEqual(2);
    expect(after).toBeGreaterThan(before);
  });

  it('grows as usual for every other subcommand', async () => {
    expect((await newSpaceMiB('control-plane')).before).toBeGreaterThan(2);
  });
});

describe('skiff agent and V8\'s optimizing compiler', () => {
  it('keeps it off for the agent until its node has pods, then on', async () => {
    const { before, after } = await traceOpt('agent');
    expect(before).not.toMatch(optimizedSpin);
    expect(after).toMatch(optimizedSpin);
  });

  it('leaves it on for every other subcommand', async () => {
    const { before } = await traceOpt('control-plane');
    expect(before).toMatch(optimizedSpin);
  });
});

/** The JS heap's total size (MiB) with 300k small objects live after a garbage burst, before and after leaveIdleMode(). */
async function heapMiB(subcommand: string): Promise<{ before: number; after: number }> {
  const url = pathToFileURL(resolve('dist/cli/agent-jit.js')).href;
  const script = `
    const { leaveIdleMode } = await import(${JSON.stringify(url)});
    const { getHeapStatistics } = await import('node:v8');
    const measure = async (tag) => {
      let keep = [];
      for (let r = 0; r < 8; r++) { keep = []; for (let i = 0; i < 2e5; i++) keep.push({ i, s: tag + i, a: [i] }); }
      keep = null;
      await new Promise((done) => setTimeout(done, 100));
      const live = []; for (let i = 0; i < 3e5; i++) live.push({ i, s: tag + i });
      const size = getHeapStatistics().total_heap_size / 1048576;
      return live.length && size;
    };
    const before = await measure('a');
    leaveIdleMode();
    const after = await measure('b');
    console.log(JSON.stringify({ before, after }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, 'skiff', subcommand]);
  return JSON.parse(stdout) as { before: number; after: number };
}

describe('skiff agent\'s heap sizing', () => {
  it('favours size while idle (--optimize-for-size), and speed once the node has pods', async () => {
    const agent = await heapMiB('agent');
    const other = await heapMiB('control-plane');
    expect(agent.before).toBeLessThan(other.before * 0.7);
    expect(agent.after).toBeGreaterThan(agent.before * 1.3);
  }, 120_000);
});
