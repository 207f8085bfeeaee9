import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptStateFileError, DesiredStateFile } from '../../agent/state/desired-state-file.js';
import type { DesiredStateMessage } from '../../api/mqtt/messages.js';

const desired = (generation: number): DesiredStateMessage => ({ v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0, pods: [] });

describe('DesiredStateFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has nothing on first start and returns the newest of several saves', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-state-'));
    const file = new DesiredStateFile(join(dir, 'sub', 'desired-state.json'));
    expect(await file.load()).toBeUndefined();
    void file.save({ desired: desired(1), finished: {} });
    void file.save({ desired: desired(2), finished: {} });
    await file.save({ desired: desired(3), finished: { u: { phase: 'Succeeded' } } });
    const loaded = await new DesiredStateFile(file.path).load();
    expect(loaded?.desired.generation).toBe(3);
    expect(loaded?.finished).toEqual({ u: { phase: 'Succeeded' } });
  });

  it('refuses a corrupt file with a typed error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-state-'));
    await writeFile(join(dir, 's.json'), '{"desired": 1');
    await expect(new DesiredStateFile(join(dir, 's.json')).load()).rejects.toBeInstanceOf(CorruptStateFileError);
  });

  it('refuses a file that does not match the schema, saying where, and defaults the finished pods', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-state-'));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ desired: { v: 1, node: 'n1' } }));
    const bad = new DesiredStateFile(join(dir, 'bad.json')).load();
    await expect(bad).rejects.toBeInstanceOf(CorruptStateFileError);
    await expect(bad).rejects.toThrow(/bad\.json: Invalid key: Expected "generation" but received undefined at desired\.generation/);
    await writeFile(join(dir, 'old.json'), JSON.stringify({ desired: desired(4) }));
    expect(await new DesiredStateFile(join(dir, 'old.json')).load()).toEqual({ desired: desired(4), finished: {} });
  });
});
