// Imported first by main.ts, before anything else loads. An agent without pods handles a few small
// messages a minute, so `skiff agent` starts in an idle mode, left for good when its node first has
// pods (the guests' JS glue and WASI host need the speed):
// - V8's optimizing compiler (TurboFan) off, so the compiler's machine code (~4 MB of RSS) is never
//   paged in on an idle device (loading the modules alone would make a path helper hot enough);
// - the young generation kept at its initial size (semi-space growth factor 1): start-up's burst of
//   allocations otherwise grows it to 16-32 MiB, ~2.5 MiB of which stays resident while idle.
//   (--max-semi-space-size would do it too but, read when the heap is made, only as a node option.)
// - V8's --optimize-for-size (heap limits grown by the smallest factor, memory reducer and GC
//   favouring size over speed): idle RSS 58.8 -> 54.7 MiB, mostly JS heap (docs/benchmarks.md).
import { setFlagsFromString } from 'node:v8';

const isAgent = process.argv[2] === 'agent';
/** V8's default semi-space growth factor (restored with pods). */
const SEMI_SPACE_GROWTH_FACTOR = 2;
if (isAgent) {
  setFlagsFromString('--no-turbofan');
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
}

/** Ends the idle mode for good (the agent's node has pods): optimizing compiler on, young generation and heap may grow. */
export function leaveIdleMode(): void {
  if (!isAgent) return;
  setFlagsFromString('--turbofan');
  setFlagsFromString(`--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`);
  setFlagsFromString('--no-optimize-for-size');
}
