// What the runtime keeps of a component: the jco-generated instantiate() source and its core modules.
/** Transpiler output, JSON/structured-clone friendly so it can go to disk and to workers. */
export interface TranspiledComponent {
  /** Function body that returns `{ instantiate }` when evaluated with `new Function`. */
  source: string;
  /** Core module file name (as passed to getCoreModule) -> bytes. */
  coreModules: Record<string, Uint8Array>;
  /** Exported interface or function names, e.g. `wasi:cli/run@0.2.0` (a preview 1 module: its function exports, `_start`...). */
  exports: string[];
  /** A preview 1 core module run as it is (runtime/preview1-module.ts): `source` is empty, one core module. */
  preview1?: boolean;
}
