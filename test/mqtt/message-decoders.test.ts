import { describe, expect, it } from 'vitest';
import { decodeControlPlaneMessage } from '../../agent/mqtt-cp-message-decoder.js';
import { topics } from '../../api/mqtt/topics.js';
import { decodeAgentMessage } from '../../control-plane/node-channel/agent-message-decoder.js';
import { aDesiredState, aNodeStatus } from './recording-handlers.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const status = (extra: object = {}) => json({ v: 1, sessionId: 's1', seq: 0, ts: 1, ...aNodeStatus(), ...extra });
const podStatus = (uid: string) => json({ v: 1, sessionId: 's1', seq: 0, ts: 1, uid, name: 'web', namespace: 'default', status: { phase: 'Running' } });

describe('decoding messages from agents', () => {
  it('accepts a valid status for the topic node, with or without a node field', () => {
    expect(decodeAgentMessage(topics.status('n1'), status())).toMatchObject({ ok: true, value: { kind: 'status', node: 'n1' } });
    expect(decodeAgentMessage(topics.status('n1'), status({ node: 'n1' }))).toMatchObject({ ok: true });
  });

  it('drops bad JSON, schema violations, node or uid mismatches and unknown topics', () => {
    const rejected = [
      decodeAgentMessage(topics.status('n1'), Buffer.from('{')),
      decodeAgentMessage(topics.status('n1'), json({ v: 2 })),
      decodeAgentMessage(topics.status('n1'), status({ node: 'n2' })),
      decodeAgentMessage(topics.podStatus('n1', 'u1'), podStatus('u2')),
      decodeAgentMessage('fleet/v1/nodes/n1/whatever', status()),
      decodeAgentMessage(topics.desired('n1'), json(aDesiredState('n1', 1))),
    ];
    expect(rejected.map((r) => r.ok)).toEqual([false, false, false, false, false, false]);
  });

  it('accepts a metrics report from the topic node and drops one naming another node or with negative usage', () => {
    const metrics = (extra: object = {}) => json({
      v: 1, sessionId: 's1', seq: 0, ts: 1, windowMs: 15_000, usage: { cpuMillicores: 12.5, memoryBytes: 1024 },
      pods: [{ uid: 'u1', namespace: 'default', name: 'web', containers: [{ name: 'main', cpuMillicores: 12.5 }] }], ...extra,
    });
    expect(decodeAgentMessage(topics.metrics('n1'), metrics())).toMatchObject({ ok: true, value: { kind: 'metrics', node: 'n1', message: { windowMs: 15_000 } } });
    expect(decodeAgentMessage(topics.metrics('n1'), metrics({ node: 'n2' })).ok).toBe(false);
    expect(decodeAgentMessage(topics.metrics('n1'), metrics({ usage: { cpuMillicores: -1 } })).ok).toBe(false);
  });

  it('fills a pod status default and treats an empty payload as a cleared retained message', () => {
    expect(decodeAgentMessage(topics.podStatus('n1', 'u1'), podStatus('u1'))).toMatchObject({ ok: true, value: { message: { removed: false } } });
    expect(decodeAgentMessage(topics.presence('n1'), Buffer.alloc(0))).toEqual({ ok: 'empty' });
  });
});

describe('decoding messages from the control plane', () => {
  const now = 1_000_000;
  const request = (extra: object) => json({ v: 1, id: 'r1', deadline: now + 1000, params: {}, ...extra });

  it('accepts this node desired state and refuses another node one', () => {
    expect(decodeControlPlaneMessage('n1', topics.desired('n1'), json(aDesiredState('n1', 1)), now)).toMatchObject({ ok: true, value: { kind: 'desired' } });
    expect(decodeControlPlaneMessage('n1', topics.desired('n1'), json(aDesiredState('n2', 1)), now)).toMatchObject({ ok: false });
    expect(decodeControlPlaneMessage('n1', topics.desired('n2'), json(aDesiredState('n2', 1)), now)).toMatchObject({ ok: false });
  });

  it('accepts an rpc request with replyTo before its deadline, ignores a late one, refuses one without replyTo', () => {
    expect(decodeControlPlaneMessage('n1', topics.rpcRequest('n1', 'logs'), request({ replyTo: 'cp-1' }), now))
      .toMatchObject({ ok: true, value: { kind: 'rpcRequest', method: 'logs', message: { replyTo: 'cp-1' } } });
    expect(decodeControlPlaneMessage('n1', topics.rpcRequest('n1', 'logs'), request({ replyTo: 'cp-1', deadline: now - 1 }), now)).toMatchObject({ ok: 'ignore' });
    expect(decodeControlPlaneMessage('n1', topics.rpcRequest('n1', 'logs'), request({}), now)).toMatchObject({ ok: false });
    expect(decodeControlPlaneMessage('n1', topics.rpcRequest('n1', 'logs'), request({ replyTo: 'a/b' }), now)).toMatchObject({ ok: false });
  });

  it('accepts the control plane presence', () => {
    expect(decodeControlPlaneMessage('n1', topics.cpPresence(), json({ v: 1, online: true, epoch: 'e1' }), now))
      .toEqual({ ok: true, value: { kind: 'cpPresence', message: { v: 1, online: true, epoch: 'e1' } } });
  });
});
