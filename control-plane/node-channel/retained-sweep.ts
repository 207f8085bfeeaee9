// Which nodes the broker retains something for (their desired state, policies part or presence):
// asked once by a control plane that starts, so it can clear what belongs to Nodes deleted while
// it was down (an external broker outlives the control plane; the embedded one does not).
// It runs on the control plane's own connection (mosquitto makes a user's clientId its username:
// a second connection would take the first one's session over). One SUBSCRIBE names the nodes'
// retained topics and, last, a sentinel retained just before: aedes and mosquitto both send a
// subscription's retained messages filter by filter, in order, so once the sentinel arrives every
// node's have. The presence filter is the channel's own (re-subscribing it resends the retained
// presences, which the channel handles as ever); the others are unsubscribed afterwards.
import type { MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import { parseTopic, TOPIC_PREFIX } from '../../api/mqtt/topics.js';

/** The filters that cover every per-node topic anything retains (presence: the channel's own subscription too). */
export const NODE_RETAINED_FILTERS = {
  presence: `${TOPIC_PREFIX}/nodes/+/presence`,
  desired: [`${TOPIC_PREFIX}/nodes/+/desired`, `${TOPIC_PREFIX}/nodes/+/desired/policies`],
} as const;

const SENTINEL_PREFIX = `${TOPIC_PREFIX}/cp/sweep/`;

/** Sees every message while a sweep runs; true when it was the sweep's (not for the channel's handlers). */
export type SweepObserver = (topic: string, payload: Buffer, retain: boolean) => boolean;

export async function sweepRetained(client: MqttClient, observe: (observer: SweepObserver | undefined) => void, timeoutMs = 30_000): Promise<Set<string>> {
  const sentinel = `${SENTINEL_PREFIX}${nanoid(12)}`;
  const names = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`retained sweep: the sentinel did not come back within ${timeoutMs} ms`)), timeoutMs);
    observe((topic, payload, retain) => {
      if (topic === sentinel) {
        resolve();
        return true;
      }
      const parsed = parseTopic(topic); // only well-formed node names (no wildcards, no '/')
      const mine = parsed?.kind === 'desired' || parsed?.kind === 'desiredPolicies';
      // live traffic is not what is retained; an empty payload is a retained message being cleared
      if (retain && payload.length > 0 && (mine || parsed?.kind === 'presence')) names.add(parsed.node);
      return mine || topic.startsWith(SENTINEL_PREFIX);
    });
  });
  try {
    await client.publishAsync(sentinel, 'sweep', { qos: 1, retain: true });
    await client.subscribeAsync([NODE_RETAINED_FILTERS.presence, ...NODE_RETAINED_FILTERS.desired, sentinel], { qos: 1 });
    await done;
    return names;
  } finally {
    clearTimeout(timer);
    observe(undefined);
    await client.unsubscribeAsync([...NODE_RETAINED_FILTERS.desired, sentinel]).catch(() => undefined);
    await client.publishAsync(sentinel, '', { qos: 1, retain: true }).catch(() => undefined); // clear the sentinel
  }
}
