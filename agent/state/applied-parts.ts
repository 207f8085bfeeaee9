// The parts of the desired state an agent holds from their own topics (decision 057): the
// cluster's Services and peers, and this node's policies. A part is taken only if it is not older
// (generation) than the one held and its content differs (hash): redelivery of a retained part,
// or the same content again, changes nothing. The agent persists its pods message with the held
// parts merged in, so an agent that restarts offline runs with the routes it last had.
import type { DesiredPartMessage, PeersPartMessage, PoliciesPartMessage, ServicesPartMessage } from '../../api/mqtt/desired-parts.js';
import type { DesiredStateMessage } from '../../api/mqtt/messages.js';

export class AppliedParts {
  #services: ServicesPartMessage | undefined;
  #peers: PeersPartMessage | undefined;
  #policies: PoliciesPartMessage | undefined;

  /** Whether `part` is new; if so it is held from now on (the caller applies it). */
  accept(part: DesiredPartMessage): boolean {
    const held = part.part === 'services' ? this.#services : part.part === 'peers' ? this.#peers : this.#policies;
    if (held && (part.generation < held.generation || part.hash === held.hash)) return false;
    if (part.part === 'services') this.#services = part;
    else if (part.part === 'peers') this.#peers = part;
    else this.#policies = part;
    return true;
  }

  /** The generation of each part held (0: none yet), for logs and tests. */
  get generations(): Record<DesiredPartMessage['part'], number> {
    return { services: this.#services?.generation ?? 0, peers: this.#peers?.generation ?? 0, policies: this.#policies?.generation ?? 0 };
  }

  /**
   * A whole desired state, as an older control plane sent it: `desired` with the parts it leaves to
   * their topics filled from what is held (absent: none held). What the agent persists and restores.
   */
  merge(desired: DesiredStateMessage): DesiredStateMessage {
    if (!desired.parts) return desired;
    const { parts, services: _s, peers: _p, networkPolicies: _n, ...rest } = desired;
    const split = new Set(parts);
    const pick = <T>(name: DesiredPartMessage['part'], own: T | undefined, held: T | undefined) => (split.has(name) ? held : own);
    const services = pick('services', desired.services, this.#services?.services);
    const peers = pick('peers', desired.peers, this.#peers?.peers);
    const networkPolicies = pick('policies', desired.networkPolicies, this.#policies?.networkPolicies);
    return { ...rest, ...(services ? { services } : {}), ...(peers ? { peers } : {}), ...(networkPolicies ? { networkPolicies } : {}) };
  }
}
