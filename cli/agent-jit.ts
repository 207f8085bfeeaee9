// Imported first by main.ts, before anything else loads. An agent without pods handles a few small
// messages a minute: `skiff agent` keeps V8's optimizing compiler (TurboFan) off until its node
// first has pods, so the compiler's machine code (~4 MB of RSS) is never paged in on an idle device.
// Loading modules alone would make a path helper hot enough to be optimized. Pods run with it on:
// the guests' JS glue and WASI host need it.
import { setFlagsFromString } from 'node:v8';

const isAgent = process.argv[2] === 'agent';
if (isAgent) setFlagsFromString('--no-turbofan');

/** Turns the optimizing compiler on for good (the agent's node has pods). */
export function enableOptimizingCompiler(): void {
  if (isAgent) setFlagsFromString('--turbofan');
}
