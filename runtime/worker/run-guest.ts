// Instantiates a transpiled component with our WASI host and runs its wasi:cli/run export, or for
// an HTTP request calls its wasi:http/incoming-handler export, turning every way it can end into a
// GuestOutcome. A handler whose run request asks for reuse and that responded is kept (LiveHandler)
// to serve the next requests of its container in this worker (decision 053); otherwise the instance
// lives for one request, as `wasmtime serve` does. Runs inside a guest worker.
import { GuestExit } from '../wasi/cli.js';
import { GuestStopRequestedError, SharedGuestControl } from '../wasi/guest-control.js';
import { HttpExchange } from '../wasi/http.js';
import { createWasiImports, type WasiImports } from '../wasi/wasi-host.js';
import { createPreview1Host, InvalidExitStatusError } from '../wasi/preview1/preview1-host.js';
import { PREVIEW1_MODULE_NAME } from '../preview1-module.js';
import { wasmtimeTrapMessage } from '../trap-messages.js';
import { WaveSyntaxError } from '../wave.js';
import { invokeComponentExport, invokeCoreExport, InvokeError } from './invoke-export.js';
import { FuelExhaustedError, FuelMeter } from '../limits/fuel-meter.js';
import { MemoryAccount, MemoryReservationError } from '../limits/memory-account.js';
import { CONTROL_POOL_PAGES_INDEX, type GuestEvent, type GuestOutcome, type GuestRunRequest, type MemoryExhausted } from './guest-messages.js';
import { SharedFileTracker } from './shared-file-tracker.js';
import { OutputBlockWriter } from './output-block.js';
import { SharedPortClaims } from './shared-port-claims.js';
import { BlockingGuestNet } from '../net/guest-net.js';
import { StdinPipeSource } from '../stdin-pipe.js';
import type { HttpRequest } from '../pod-runtime.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

interface RunExport {
  run(): void;
}

interface IncomingHandlerExport {
  handle(request: unknown, responseOut: unknown): void;
}

/** Evaluated jco sources of this worker, by component: evaluating one costs ~1-2 ms. */
const evaluated = new Map<string, Instantiate>();
const MAX_EVALUATED = 16;

// jco's glue reads process.env.JCO_DEBUG on every one of its debug calls (~200 call sites, on every
// host call of a component using its task machinery): a getenv each time, ~4 % of a reused handler's
// worker CPU. Read once per evaluation instead (the glue sees the same value).
const JCO_DEBUG_READ = 'globalThis?.process?.env?.JCO_DEBUG';

function withDebugFlagReadOnce(source: string): string {
  if (!source.includes(JCO_DEBUG_READ)) return source;
  return `const __skiffJcoDebug = ${JCO_DEBUG_READ};\n${source.replaceAll(JCO_DEBUG_READ, '__skiffJcoDebug')}`;
}

function evaluatedSource(request: GuestRunRequest): Instantiate {
  let instantiate = evaluated.get(request.sourceKey);
  if (!instantiate) {
    instantiate = (new Function(withDebugFlagReadOnce(request.source))() as { instantiate: Instantiate }).instantiate;
    if (evaluated.size >= MAX_EVALUATED) evaluated.delete(evaluated.keys().next().value!);
    evaluated.set(request.sourceKey, instantiate);
  }
  return instantiate;
}

/** A handler instance kept in its worker between requests: serve one more, or let it go. */
export interface LiveHandler {
  serve(http: HttpRequest): GuestOutcome;
  close(): void;
}

export interface GuestRunResult {
  outcome: GuestOutcome;
  /** Milliseconds the handler call took (HTTP requests that reached the handler). */
  handleMs?: number;
  /** The instance, kept for the next request (a reuse run whose handler responded). */
  live?: LiveHandler;
}

export async function runGuest(request: GuestRunRequest, emit: (event: GuestEvent) => void): Promise<GuestRunResult> {
  const controlView = new Int32Array(request.control);
  const control = new SharedGuestControl(controlView);
  // a handler's output waits in its output block for the end of the request (output-block.ts)
  const block = request.output ? new OutputBlockWriter(request.output, (stream, chunk) => emit({ type: 'output', stream, chunk })) : undefined;
  const sink = (stream: 'stdout' | 'stderr') => ({
    // copy: the bytes are a view into guest memory
    write: block ? (bytes: Uint8Array) => block.write(stream, bytes) : (bytes: Uint8Array) => emit({ type: 'output', stream, chunk: bytes.slice() }),
  });
  const account = memoryAccountOf(request, controlView);
  const memoryExhausted = (): MemoryExhausted => account?.exhausted ?? false;
  const usage = request.usage ? new BigInt64Array(request.usage) : undefined;
  const meter = request.fuel ? new FuelMeter(request.fuel, control, usage, request.period) : undefined;
  // what the run calls: a command's (or an invoked export's) entry, or a handler's export per request
  let entry: () => GuestOutcome = () => ({ kind: 'not-started', message: 'nothing to run' });
  let handler: IncomingHandlerExport | undefined;
  let closePreview1: (() => void) | undefined;
  const evaluateStartedAt = performance.now();
  let instantiateStartedAt = evaluateStartedAt;
  try {
    // preopens are opened (and pinned) here: one that moved since the runtime checked it ends the run
    const imports = createWasiImports({
      args: request.args,
      env: request.env,
      stdin: request.http ? new Uint8Array() : request.stdinPipe ? new StdinPipeSource(request.stdinPipe) : request.stdin,
      stdout: sink('stdout'),
      stderr: sink('stderr'),
      preopens: request.preopens,
      control,
      files: new SharedFileTracker(controlView),
      ...(request.ports ? { ports: new SharedPortClaims(request.ports, controlView, emit) } : {}),
      ...(request.net ? { net: new BlockingGuestNet(request.net, controlView, control) } : {}),
    });
    const instantiateCore = (module: WebAssembly.Module, moduleImports?: WebAssembly.Imports) => {
      account?.beforeInstantiate(module);
      const instance = new WebAssembly.Instance(module, moduleImports);
      account?.attach(instance);
      meter?.attach(instance);
      return instance;
    };
    if (request.preview1) {
      instantiateStartedAt = performance.now();
      const program = startPreview1(request, imports, instantiateCore);
      closePreview1 = program.close;
      entry = program.entry;
    } else {
      const instantiate = evaluatedSource(request);
      instantiateStartedAt = performance.now();
      const component = await instantiate(
        (name) => {
          const module = request.modules[name];
          if (!module) throw new Error(`missing core module ${name}`);
          return module;
        },
        imports,
        (module, moduleImports) => instantiateCore(module, keepPreview1ExitCode(moduleImports)),
      );
      if (request.http) handler = findHandlerExport(component);
      else entry = componentEntry(component, request);
    }
  } catch (error) {
    if (error instanceof MemoryReservationError) return { outcome: { kind: 'trapped', message: error.message, memoryExhausted: error.exhaustion } };
    return { outcome: { kind: 'not-started', message: `cannot instantiate: ${messageOf(error)}` } };
  }
  const startedAt = performance.now();
  emit({ type: 'started', evaluateMs: instantiateStartedAt - evaluateStartedAt, instantiateMs: startedAt - instantiateStartedAt });
  const close = () => {
    meter?.settle();
    closePreview1?.();
    request.net?.close();
    SharedFileTracker.closeLeftOpen(controlView);
  };
  if (handler && request.http) {
    const serveOne = (http: HttpRequest): { outcome: GuestOutcome; handleMs: number } => {
      const exchange = new HttpExchange(http, control);
      const began = performance.now();
      let outcome: GuestOutcome;
      try {
        outcome = serve(handler, exchange, memoryExhausted);
      } catch (error) {
        outcome = outcomeOf(error, memoryExhausted);
      } finally {
        exchange.close();
        meter?.settle();
      }
      return { outcome, handleMs: performance.now() - began };
    };
    const first = serveOne(request.http);
    if (!request.reuse || first.outcome.kind !== 'responded') {
      close();
      return first;
    }
    const live: LiveHandler = {
      serve: (http) => {
        meter?.startRequest();
        account?.forgetExhaustion();
        return serveOne(http).outcome;
      },
      close,
    };
    return { ...first, live };
  }
  try {
    return { outcome: entry() };
  } catch (error) {
    return { outcome: outcomeOf(error, memoryExhausted) };
  } finally {
    close();
  }
}

/** A preview 1 program: the module instantiated with our p1 host; its entry calls `_start` (or the invoked export). */
function startPreview1(request: GuestRunRequest, imports: WasiImports, instantiateCore: (m: WebAssembly.Module, i: WebAssembly.Imports) => WebAssembly.Instance) {
  const module = request.modules[PREVIEW1_MODULE_NAME];
  if (!module) throw new Error('missing the preview 1 module');
  const host = createPreview1Host(imports);
  const instance = instantiateCore(module, host.imports);
  const memory = instance.exports['memory'];
  if (memory instanceof WebAssembly.Memory) host.bind(memory);
  const close = () => host.close();
  const invoke = request.invoke;
  if (invoke) {
    return { close, entry: (): GuestOutcome => ({ kind: 'returned', results: invokeCoreExport(instance, invoke.name, invoke.args, invoke.signature) }) };
  }
  const start = instance.exports['_start'];
  if (typeof start !== 'function') throw new Error('the module exports no _start (it is not a command)');
  return { close, entry: (): GuestOutcome => ((start as () => void)(), { kind: 'exited', exitCode: 0, memoryExhausted: false }) };
}

/** A command component's entry: an invoked export, or its wasi:cli/run. */
function componentEntry(component: Record<string, unknown>, request: GuestRunRequest): () => GuestOutcome {
  const invoke = request.invoke;
  if (invoke) return () => ({ kind: 'returned', results: invokeComponentExport(component, invoke.name, invoke.args) });
  const run = findRunExport(component);
  return () => {
    run.run();
    return { kind: 'exited', exitCode: 0, memoryExhausted: false };
  };
}

// The preview 1 adapter turns proc_exit(n) into WASI 0.2's exit(err), losing n. The main module of a
// component built from a preview 1 program imports proc_exit: answering it ourselves keeps `return 3` = 3.
function keepPreview1ExitCode(imports: WebAssembly.Imports | undefined): WebAssembly.Imports | undefined {
  const preview1 = imports?.['wasi_snapshot_preview1'];
  if (!preview1 || typeof preview1['proc_exit'] !== 'function') return imports;
  const procExit = (code: number): never => {
    throw new GuestExit(code & 0xff);
  };
  return { ...imports, wasi_snapshot_preview1: { ...preview1, proc_exit: procExit } };
}

function findRunExport(component: Record<string, unknown>): RunExport {
  const key = Object.keys(component).find((name) => name.startsWith('wasi:cli/run@'));
  const run = key === undefined ? undefined : (component[key] as Partial<RunExport>);
  if (typeof run?.run !== 'function') throw new Error('the component does not export wasi:cli/run (it is not a command)');
  return run as RunExport;
}

function findHandlerExport(component: Record<string, unknown>): IncomingHandlerExport {
  const key = Object.keys(component).find((name) => name.startsWith('wasi:http/incoming-handler@'));
  const handler = key === undefined ? undefined : (component[key] as Partial<IncomingHandlerExport>);
  if (typeof handler?.handle !== 'function') throw new Error('the component does not export wasi:http/incoming-handler');
  return handler as IncomingHandlerExport;
}

/** Calls the handler once; what it set through response-outparam is the outcome. */
function serve(handler: IncomingHandlerExport, exchange: HttpExchange, memoryExhausted: () => MemoryExhausted): GuestOutcome {
  handler.handle(exchange.request, exchange.outparam);
  const response = exchange.response();
  if (typeof response !== 'string') return { kind: 'responded', response };
  // a handler that gave up after an allocation failed ran out of memory
  const exhausted = memoryExhausted();
  if (exhausted) return { kind: 'trapped', message: response, memoryExhausted: exhausted };
  return { kind: 'no-response', message: response };
}

function outcomeOf(error: unknown, memoryExhausted: () => MemoryExhausted): GuestOutcome {
  if (error instanceof GuestExit) {
    return { kind: 'exited', exitCode: error.exitCode, memoryExhausted: error.exitCode !== 0 && memoryExhausted() };
  }
  if (error instanceof GuestStopRequestedError) return { kind: 'stopped' };
  if (error instanceof FuelExhaustedError) return { kind: 'fuel-exhausted', message: error.message };
  if (error instanceof InvokeError || error instanceof WaveSyntaxError) return { kind: 'not-started', message: error.message };
  if (error instanceof InvalidExitStatusError) return { kind: 'trapped', message: error.message, memoryExhausted: memoryExhausted() };
  // jco's ComponentError: run() returned err(()) — a failed command, not a trap
  if (error instanceof Error && Object.hasOwn(error, 'payload')) {
    return { kind: 'exited', exitCode: 1, memoryExhausted: memoryExhausted() };
  }
  return { kind: 'trapped', message: messageOf(error), memoryExhausted: memoryExhausted() };
}

/** The run's memory account, when its modules route memory.grow to the host. */
function memoryAccountOf(request: GuestRunRequest, control: Int32Array): MemoryAccount | undefined {
  const memory = request.memory;
  if (!memory) return undefined;
  const names = new Map(Object.entries(request.modules).map(([name, module]) => [module, name]));
  return new MemoryAccount({
    ...(memory.limitPages !== undefined ? { limitPages: memory.limitPages } : {}),
    ...(memory.pool ? { pool: memory.pool } : {}),
    poolPages: { cells: control, index: CONTROL_POOL_PAGES_INDEX },
    minPages: (module) => memory.minPages[names.get(module) ?? ''] ?? 0,
  });
}

function messageOf(error: unknown): string {
  const trap = error instanceof Error ? wasmtimeTrapMessage(error) : undefined;
  if (trap) return trap;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
