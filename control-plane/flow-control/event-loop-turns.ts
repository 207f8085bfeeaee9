// Sharing the one event loop between bulk work and requests (docs/decisions/010).
//
// The control plane's store answers synchronously (SQLite) or from memory (the watch cache), so a
// controller that awaits write after write runs on microtasks alone: Node never gets back to its
// I/O phase, and /healthz, reads and SIGTERM wait until the whole burst is over. Bulk work calls
// `yieldIfBusy()` between steps: once the current turn of the event loop has run longer than its
// budget, the caller waits for a macrotask (setImmediate runs after the I/O phase), so requests,
// timers and signals are served between slices. Cheap when there is nothing to do: a clock read.

/** How long bulk work may hold the event loop before it lets I/O in (ms). */
export const DEFAULT_TURN_BUDGET_MS = 10;

let lastTurnAt = performance.now();
let isTurnMarkArmed = false;
let yields = 0;

/**
 * Counts the turn from the first check in it (earlier work in the same turn is not seen), and notes
 * the start of the next one (setImmediate runs once pending I/O was polled).
 */
function armTurnMark(): void {
  if (isTurnMarkArmed) return;
  isTurnMarkArmed = true;
  lastTurnAt = performance.now();
  setImmediate(() => {
    isTurnMarkArmed = false;
    lastTurnAt = performance.now();
  });
}

/** True when bulk work has held the event loop for longer than `budgetMs` since I/O last had a turn. */
export function isTurnOver(budgetMs = DEFAULT_TURN_BUDGET_MS): boolean {
  armTurnMark();
  return performance.now() - lastTurnAt >= budgetMs;
}

/**
 * Resolves at once while the current turn is within budget, else after the event loop has served
 * I/O (one setImmediate). Await it between steps of any loop whose length callers control.
 */
export function yieldIfBusy(budgetMs = DEFAULT_TURN_BUDGET_MS): Promise<void> | undefined {
  if (!isTurnOver(budgetMs)) return undefined;
  yields++;
  return new Promise((resolve) => setImmediate(resolve));
}

/** How often bulk work gave the event loop back (metrics, tests). */
export function turnYields(): number {
  return yields;
}
