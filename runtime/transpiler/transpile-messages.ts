// Messages between the runtime and its transpiler worker.
import type { TranspiledComponent } from './component-transpiler.js';

export interface TranspileRequest {
  id: number;
  bytes: Uint8Array;
}

export type TranspileResponse =
  | { id: number; ok: true; component: TranspiledComponent }
  | { id: number; ok: false; invalid: boolean; message: string };
