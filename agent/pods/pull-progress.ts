// Download progress of a component as the agent tells it: an event at each quarter of a large
// download (at most three however fast or slow it is), none for small ones.

const MiB = 1024 * 1024;
/** Components below this arrive in a blink: no progress events for them. */
const PROGRESS_MIN_BYTES = MiB;

/** Progress as events at each quarter of a large download (at most three, whatever the speed). */
export function pullProgress(report: (message: string) => void): (received: number, total: number | undefined) => void {
  let quarter = 0;
  return (received, total) => {
    if (!total || total < PROGRESS_MIN_BYTES) return;
    const reached = Math.floor((received / total) * 4);
    if (reached <= quarter || reached >= 4) return;
    quarter = reached;
    report(`${reached * 25}% (${(received / MiB).toFixed(1)} MiB of ${(total / MiB).toFixed(1)} MiB)`);
  };
}
