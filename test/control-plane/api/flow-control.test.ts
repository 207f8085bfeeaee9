// Priority and fairness for API requests (decision 057): fair queues per user with bounded
// queues, 429 + Retry-After when full or too slow, and, through the middleware, probes and system
// users that never wait behind a user's burst. Deterministic: seats are held by handlers that wait
// on a gate, time is a fake clock; nothing measures latency.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiFlowControl, classify } from '../../../control-plane/api/flow-control.js';
import { decodeRequestPath } from '../../../control-plane/api/request-path.js';
import { FairQueues, RequestRejectedError } from '../../../control-plane/flow-control/fair-queues.js';
import { FakeClock } from '../../support/fake-clock.js';

const settle = () => new Promise((r) => setImmediate(r));

describe('FairQueues', () => {
  it('seats flows in turn: a burst of one flow waits behind itself, not ahead of another flow', async () => {
    const q = new FairQueues({ seats: 1, queueLengthPerFlow: 10, queueLengthTotal: 100, queueTimeoutMs: 60_000, clock: new FakeClock() });
    const seated: string[] = [];
    const releases = new Map<string, () => void>();
    const ask = (flow: string, id: string) => void q.acquire(flow).then((release) => { seated.push(id); releases.set(id, release); });
    ask('alice', 'a1');
    for (let i = 2; i <= 6; i++) ask('alice', `a${i}`);
    ask('bob', 'b1');
    ask('carol', 'c1');
    await settle();
    expect(seated).toEqual(['a1']);
    for (let i = 0; i < 7; i++) {
      releases.get(seated.at(-1)!)!();
      await settle();
    }
    expect(seated).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'a4', 'a5', 'a6']);
    expect(q.counts).toEqual({ served: 8, rejected: 0 });
  });

  it('refuses a request whose flow queue or level queue is full, and one that waits too long', async () => {
    const clock = new FakeClock();
    const q = new FairQueues({ seats: 1, queueLengthPerFlow: 2, queueLengthTotal: 3, queueTimeoutMs: 5_000, clock });
    const release = await q.acquire('alice');
    const waiting = [q.acquire('alice'), q.acquire('alice')];
    await expect(q.acquire('alice')).rejects.toMatchObject({ why: 'queue-full', retryAfterSeconds: 1 });
    const bob = q.acquire('bob'); // another flow still queues
    await expect(q.acquire('carol')).rejects.toBeInstanceOf(RequestRejectedError); // the level is full
    clock.advance(5_000);
    for (const w of [...waiting, bob]) await expect(w).rejects.toMatchObject({ why: 'time-out', retryAfterSeconds: 5 });
    expect(q.waiting).toBe(0);
    release();
    expect(q.executing).toBe(0);
    release(); // twice: nothing
    expect(q.executing).toBe(0);
  });
});

describe('API flow control middleware', () => {
  function app(flowControl: ApiFlowControl) {
    const entered: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const api = new Hono();
    api.use('*', decodeRequestPath);
    api.use('*', async (c, next) => {
      const [name, groups] = (c.req.header('x-test-user') ?? 'system:anonymous').split('|');
      c.set('user', { name: name!, groups: groups ? groups.split(',') : [] });
      await next();
    });
    api.use('*', flowControl.middleware());
    api.get('/healthz', (c) => c.text('ok'));
    api.post('/api/v1/namespaces/:ns/pods', async (c) => {
      entered.push(`create:${c.req.header('x-test-user')}`);
      await gate;
      return c.json({}, 201);
    });
    api.get('/api/v1/namespaces/:ns/pods', (c) => {
      entered.push(`list:${c.req.header('x-test-user')}${c.req.query('watch') ? ':watch' : ''}`);
      return c.json({ items: [] });
    });
    api.put('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/:name', (c) => {
      entered.push(`lease:${c.req.header('x-test-user')}`);
      return c.json({});
    });
    return { api, entered, open: () => open() };
  }

  it('keeps probes, nodes and other users answering while one user bursts, and refuses the burst beyond its queue with 429 and Retry-After', async () => {
    const flowControl = new ApiFlowControl(new FakeClock(), { workload: { seats: 2, queueLengthPerFlow: 3, queueLengthTotal: 100, queueTimeoutMs: 60_000 } });
    const { api, entered, open } = app(flowControl);
    const as = (user: string) => ({ headers: { 'x-test-user': user } });
    const burst = Array.from({ length: 5 }, () => api.request('/api/v1/namespaces/default/pods', { method: 'POST', ...as('alice') }));
    await settle();
    expect(entered).toEqual(['create:alice', 'create:alice']); // two seats, three queued
    const refused = await api.request('/api/v1/namespaces/default/pods', { method: 'POST', ...as('alice') });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // an Upgrade header on an ordinary request is no way around the queue
    const sneaky = await api.request('/api/v1/namespaces/default/pods', { method: 'POST', headers: { 'x-test-user': 'alice', upgrade: 'websocket' } });
    expect(sneaky.status).toBe(429);
    expect(await refused.json()).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });

    // every seat of the workload level is held: probes, a node's lease, a watch still answer at once
    expect((await api.request('/healthz')).status).toBe(200);
    expect((await api.request('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', { method: 'PUT', ...as('system:node:n1|system:nodes') })).status).toBe(200);
    expect((await api.request('/api/v1/namespaces/default/pods?watch=true', as('bob'))).status).toBe(200);
    expect((await api.request('/api/v1/namespaces/default/pods', as('admin|system:masters'))).status).toBe(200);

    // bob's read queues behind alice's three creates, and the two freed seats go one to each flow
    // (alice has waited longest): bob waits for one of alice's, not for all of them
    const bobRead = api.request('/api/v1/namespaces/default/pods', as('bob'));
    await settle();
    open();
    expect((await bobRead).status).toBe(200);
    expect((await Promise.all(burst)).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(entered.filter((e) => !e.startsWith('lease') && !e.endsWith(':watch') && !e.includes('admin'))).toEqual([
      'create:alice', 'create:alice', 'create:alice', 'list:bob', 'create:alice', 'create:alice',
    ]);
    expect(flowControl.levels.workload.counts).toEqual({ served: 6, rejected: 2 });
    expect(flowControl.levels.system.counts.served).toBe(1);
  });

  it('puts nodes and system: users in the system level, one flow per user, and everyone else in workload', () => {
    expect(classify({ name: 'system:node:n1', groups: ['system:nodes'] })).toEqual({ level: 'system', flow: 'system:node:n1' });
    expect(classify({ name: 'system:serviceaccount:kube-system:replicaset-controller' })).toMatchObject({ level: 'system' });
    expect(classify({ name: 'alice', groups: ['dev'] })).toEqual({ level: 'workload', flow: 'alice' });
    // a pod's token is a workload's, wherever it claims to belong
    expect(classify({ name: 'system:serviceaccount:default:web', groups: ['system:serviceaccounts'] })).toEqual({ level: 'workload', flow: 'system:serviceaccount:default:web' });
    expect(classify({ name: 'system:serviceaccount:team:system:nodes', groups: ['system:serviceaccounts', 'system:serviceaccounts:team'] })).toMatchObject({ level: 'workload' });
    expect(classify({ name: 'mallory', groups: ['system:nodes'] })).toMatchObject({ level: 'system' });
  });
});
