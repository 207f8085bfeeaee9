import { describe, expect, it } from 'vitest';
import { InvalidTopicLevelError, isTopicLevel, requireTopicLevel } from '../../api/mqtt/topic-level.js';
import { parseTopic, topics } from '../../api/mqtt/topics.js';

describe('topic parsing', () => {
  it('parses every topic the tree builds back into its parts', () => {
    expect(parseTopic(topics.presence('n1'))).toEqual({ kind: 'presence', node: 'n1' });
    expect(parseTopic(topics.status('n1'))).toEqual({ kind: 'status', node: 'n1' });
    expect(parseTopic(topics.desired('n1'))).toEqual({ kind: 'desired', node: 'n1' });
    expect(parseTopic(topics.lease('n1'))).toEqual({ kind: 'lease', node: 'n1' });
    expect(parseTopic(topics.events('n1'))).toEqual({ kind: 'events', node: 'n1' });
    expect(parseTopic(topics.metrics('n1'))).toEqual({ kind: 'metrics', node: 'n1' });
    expect(parseTopic(topics.podStatus('n1', 'u-1'))).toEqual({ kind: 'podStatus', node: 'n1', uid: 'u-1' });
    expect(parseTopic(topics.podLogs('n1', 'u-1'))).toEqual({ kind: 'podLogs', node: 'n1', uid: 'u-1' });
    expect(parseTopic(topics.rpcRequest('n1', 'logs'))).toEqual({ kind: 'rpcRequest', node: 'n1', method: 'logs' });
    expect(parseTopic(topics.rpcResponse('n1', 'cp-1'))).toEqual({ kind: 'rpcResponse', node: 'n1', cpInstance: 'cp-1' });
    expect(parseTopic(topics.cpPresence())).toEqual({ kind: 'cpPresence' });
  });

  it('rejects topics outside the tree or with bad levels', () => {
    const bad = [
      'fleet/v2/nodes/n1/status', 'fleet/v1/nodes/n1', 'fleet/v1/nodes/n1/unknown', 'fleet/v1/nodes/n+1/status',
      'fleet/v1/nodes//status', 'fleet/v1/nodes/n1/pods/u1/other', 'fleet/v1/nodes/n1/rpc/xyz/m', 'fleet/v1/cp/other',
      'fleet/v1/nodes/n1/status/extra', `fleet/v1/nodes/${'a'.repeat(254)}/status`, '',
    ];
    expect(bad.map(parseTopic)).toEqual(bad.map(() => undefined));
  });

  it('accepts a topic level of safe characters and refuses separators and wildcards', () => {
    expect(['node-1', 'a.b_c', 'X'].every(isTopicLevel)).toBe(true);
    expect(['', 'a/b', '+', '#', 'a b', '$sys'].some(isTopicLevel)).toBe(false);
    expect(() => requireTopicLevel('node', 'a/b')).toThrow(InvalidTopicLevelError);
  });
});
