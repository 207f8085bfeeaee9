// The agent's memory across restarts (DATA_DIR/desired-state.json): the last desired state it
// applied and the pods that already ran to completion, so an agent that starts while its control
// plane is unreachable runs the same pods, and never re-runs a finished one.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as v from 'valibot';
import { describeIssues } from '../../api/mqtt/decode-payload.js';
import { desiredStateMessage, jsonRecord, type DesiredStateMessage } from '../../api/mqtt/messages.js';

const persistedState = v.object({
  desired: desiredStateMessage,
  /** uid -> final pod status of pods that will not run again (restartPolicy Never/OnFailure done). */
  finished: v.optional(jsonRecord(jsonRecord(v.unknown())), () => ({})),
});
export type PersistedState = v.InferOutput<typeof persistedState>;

/** The file exists but cannot be used: the agent starts empty and waits for its control plane. */
export class CorruptStateFileError extends Error {
  override readonly name = 'CorruptStateFileError';
}

export class DesiredStateFile {
  #writing: Promise<void> = Promise.resolve();
  #next: PersistedState | undefined;

  constructor(readonly path: string) {}

  /** The persisted state, undefined when there is none (first start). */
  async load(): Promise<PersistedState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CorruptStateFileError(`${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const parsed = v.safeParse(persistedState, json);
    if (!parsed.success) throw new CorruptStateFileError(`${this.path}: ${describeIssues(parsed.issues)}`);
    return parsed.output;
  }

  /**
   * Writes `state` atomically (temp file + rename: a crash leaves the old or the new file, never
   * half of one). Saves are serialised and coalesced: only the newest pending state is written.
   * Secret data must already be stripped by the caller: nothing secret is ever written here.
   */
  save(state: PersistedState): Promise<void> {
    const first = this.#next === undefined;
    this.#next = state;
    if (!first) return this.#writing;
    this.#writing = this.#writing.catch(() => undefined).then(async () => {
      const next = this.#next!;
      this.#next = undefined;
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, JSON.stringify(next), { mode: 0o600 });
      await rename(tmp, this.path);
    });
    return this.#writing;
  }

  /** Resolves when every save so far is on disk. */
  flushed(): Promise<void> {
    return this.#writing;
  }
}

export type { DesiredStateMessage };
