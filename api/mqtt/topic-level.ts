// One level of the topic tree (node name, pod uid, rpc method, cpInstance): the same rule as
// parseTopic's, checked before publishing so a bad name fails here, not as a broker disconnect.

const LEVEL = /^[A-Za-z0-9._-]{1,253}$/;

export function isTopicLevel(value: string): boolean {
  return LEVEL.test(value);
}

export class InvalidTopicLevelError extends Error {
  override readonly name = 'InvalidTopicLevelError';
  constructor(readonly what: string, readonly value: string) {
    super(`invalid ${what} ${JSON.stringify(value)}: must be 1-253 of [A-Za-z0-9._-]`);
  }
}

/** Returns `value` when it is a valid level; throws InvalidTopicLevelError otherwise. */
export function requireTopicLevel(what: string, value: string): string {
  if (!isTopicLevel(value)) throw new InvalidTopicLevelError(what, value);
  return value;
}
