// "." and ".." path segments are refused before routing (never normalised), on plain requests and on
// upgrades; and the exec WebSocket passes the same authentication and authorization as every route.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { startApiServer, type ApiServer } from '../../../control-plane/api/api-server.js';
import { decodePathSegments } from '../../../control-plane/api/request-path.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token', node: 'node-1-credential' };

describe('request path segments', () => {
  it('decodes each segment once and refuses dot segments in every spelling', () => {
    expect(decodePathSegments('/api/v1/namespaces/x/pods/web')).toEqual(['api', 'v1', 'namespaces', 'x', 'pods', 'web']);
    expect(decodePathSegments('/api//v1/')).toEqual(['api', 'v1']);
    expect(decodePathSegments('/a/%252e%252e')).toEqual(['a', '%2e%2e']); // decoded once only: not a dot segment
    for (const bad of ['/a/..', '/a/.', '/a/%2e%2e', '/a/%2E%2e', '/a/.%2e', '/a/%2e.', '/a/%2E', '/a/../b', '/a/b%2Fc', '/a/b%5cc', '/a\\b', '/a/%zz', '/a/%e0%a4%a']) {
      expect(() => decodePathSegments(bad), bad).toThrow(/refused, never normalised/);
    }
    expect(decodePathSegments('/a/..b/.c/...')).toEqual(['a', '..b', '.c', '...']);
  });
});

describe('over HTTPS', () => {
  let t: TestResources;
  let dir: string;
  let server: ApiServer;
  let ca: string;

  /** A request with its target sent exactly as given (no client-side normalisation). */
  const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any; upgraded: boolean }>((resolve, reject) => {
      const url = new URL(server.url);
      const req = request({ host: url.hostname, port: url.port, method, path, ca, headers: { authorization: `Bearer ${tokens.admin}`, ...headers } });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve({ status: 101, body: undefined, upgraded: true });
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try { body = JSON.parse(text); } catch { /* text */ }
          resolve({ status: res.statusCode ?? 0, body, upgraded: false });
        });
      });
      req.on('error', reject);
      req.end();
    });
  const upgradeHeaders = (token: string) => ({
    authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'v5.channel.k8s.io',
  });

  beforeAll(async () => {
    t = await openTestResources();
    dir = await mkdtemp(join(tmpdir(), 'skiff-paths-'));
    const tls = await ensureTls(dir, { hosts: [] });
    ca = tls.caCert;
    const tokenAuth = clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node ? 'node-1' : undefined) });
    server = await startApiServer({ app: createApiApp({ resources: t.resources, tokens: tokenAuth }), host: '127.0.0.1', port: 0, tls });
    await t.resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
    await t.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'x' } }); // what the ServiceAccount controller would create
    await t.resources.create(resourceTypes.pods, aPod('web', { namespace: 'x', nodeName: 'node-1' }));
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not delete namespace x for DELETE .../namespaces/x/pods/..', async () => {
    for (const path of ['/api/v1/namespaces/x/pods/..', '/api/v1/namespaces/x/pods/%2e%2E', '/api/v1/namespaces/x/pods/.%2e', '/api/v1/namespaces/x/pods/web/../..']) {
      const res = await raw('DELETE', path);
      expect(res.status, path).toBe(400);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    }
    const ns = await t.resources.get(resourceTypes.namespaces, undefined, 'x');
    expect(ns.metadata.deletionTimestamp).toBeUndefined();
  });

  it('does not return a Namespace for GET .../secrets/%2e%2e', async () => {
    for (const path of ['/api/v1/namespaces/x/secrets/%2e%2e', '/api/v1/namespaces/x/secrets/..', '/api/v1/namespaces/x/secrets/%2E', '/api/v1/namespaces/x/./pods']) {
      const res = await raw('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.kind).toBe('Status');
    }
    expect((await raw('GET', '/api/v1/namespaces/x/pods/web')).body).toMatchObject({ kind: 'Pod', metadata: { name: 'web' } });
  });

  it('refuses dot segments on the exec upgrade path too', async () => {
    for (const path of ['/api/v1/namespaces/x/pods/web/exec/..', '/api/v1/namespaces/x/pods/web/%2e%2e/web/exec?command=env']) {
      const res = await raw('GET', path, upgradeHeaders(tokens.admin));
      expect(res.upgraded, path).toBe(false);
      expect(res.status, path).toBe(400);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    }
  });

  it('refuses the exec WebSocket to a node credential and to the bootstrap token (403)', async () => {
    for (const token of [tokens.node, tokens.bootstrap]) {
      const res = await raw('GET', '/api/v1/namespaces/x/pods/web/exec?command=env&stdout=true', upgradeHeaders(token));
      expect(res.upgraded).toBe(false);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining('cannot create resource "pods/exec"') });
    }
    const wrong = await raw('GET', '/api/v1/namespaces/x/pods/web/exec?command=env', upgradeHeaders('wrong'));
    expect(wrong.status).toBe(401);
  });

  it('refuses node identities the port-forward and proxy upgrades too (403 before routing), even for their own pod', async () => {
    for (const token of [tokens.node, tokens.bootstrap]) {
      for (const [sub, verb] of [['portforward', 'create'], ['proxy', 'get']] as const) {
        const res = await raw('GET', `/api/v1/namespaces/x/pods/web/${sub}?stdout=true&ports=80`, upgradeHeaders(token));
        expect(res.upgraded, sub).toBe(false);
        expect(res.status, sub).toBe(403);
        expect(res.body, sub).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining(`cannot ${verb} resource "pods/${sub}"`) });
      }
      // a WebSocket through the pods and services proxy paths (what a browser behind kubectl proxy sends)
      for (const path of ['/api/v1/namespaces/x/pods/web:8080/proxy/ws', '/api/v1/namespaces/x/services/web:80/proxy/ws']) {
        const res = await raw('GET', path, upgradeHeaders(token));
        expect(res.upgraded, path).toBe(false);
        expect(res.status, path).toBe(403);
        expect(res.body, path).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringMatching(/cannot get resource "(pods|services)\/proxy"/) });
      }
    }
  });

  it('refuses port-forward, over SPDY and over the WebSocket tunnel, to a node credential and to the bootstrap token (403)', async () => {
    const spdy = (token: string) => ({ authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' });
    const tunnel = (token: string) => ({ ...upgradeHeaders(token), 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io' });
    for (const token of [tokens.node, tokens.bootstrap]) {
      for (const headers of [spdy(token), tunnel(token)]) {
        const res = await raw('POST', '/api/v1/namespaces/x/pods/web/portforward', headers);
        expect(res.upgraded).toBe(false);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining('cannot create resource "pods/portforward"') });
      }
    }
    // the admin gets the upgrade (the forwarded streams then report on their error streams)
    expect((await raw('POST', '/api/v1/namespaces/x/pods/web/portforward', spdy(tokens.admin))).upgraded).toBe(true);
  });

  it('refuses pods/proxy and services/proxy to a node credential and to the bootstrap token (403)', async () => {
    for (const token of [tokens.node, tokens.bootstrap]) {
      for (const path of ['/api/v1/namespaces/x/pods/web:8080/proxy/', '/api/v1/namespaces/x/services/web:80/proxy/a?b=c', '/api/v1/namespaces/x/pods/web/proxy']) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          const res = await raw(method, path, { authorization: `Bearer ${token}` });
          expect(res.status, `${method} ${path}`).toBe(403);
          expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringMatching(/resource "(pods|services)\/proxy"/) });
        }
      }
    }
    // dot segments after /proxy are refused before anything is proxied
    expect((await raw('GET', '/api/v1/namespaces/x/pods/web:8080/proxy/../../secrets')).status).toBe(400);
  });

  it('refuses the attach WebSocket to a node credential and to the bootstrap token (403)', async () => {
    for (const token of [tokens.node, tokens.bootstrap]) {
      for (const method of ['GET', 'POST']) {
        const res = await raw(method, '/api/v1/namespaces/x/pods/web/attach?stdin=true&stdout=true', upgradeHeaders(token));
        expect(res.upgraded).toBe(false);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining('cannot create resource "pods/attach"') });
      }
    }
  });

  it('upgrades the admin\'s exec request and reports on the error channel', async () => {
    const ws = new WebSocket(`${server.url.replace('https', 'wss')}/api/v1/namespaces/x/pods/web/exec?command=env&stdout=true`, ['v5.channel.k8s.io'],
      { ca, headers: { authorization: `Bearer ${tokens.admin}` } });
    const message = await new Promise<Buffer>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data));
      ws.once('error', reject);
    });
    ws.close();
    expect(message[0]).toBe(3);
    expect(JSON.parse(message.subarray(1).toString())).toMatchObject({ status: 'Failure', reason: 'ServiceUnavailable' });
  });

  it('refuses an upgrade on any other resource path (a watch would hold the socket)', async () => {
    for (const path of ['/api/v1/namespaces/x/pods?watch=true', '/api/v1/namespaces/x/pods/web/log?follow=true', '/api/v1/namespaces/x/pods/web']) {
      const res = await raw('GET', path, upgradeHeaders(tokens.admin));
      expect(res.status, path).toBe(400);
      expect(res.body.message).toContain('only pods/exec, pods/attach and pods/portforward take an upgrade');
    }
  });

  it('answers a plain (non-upgrade) exec request with 400', async () => {
    const res = await raw('POST', '/api/v1/namespaces/x/pods/web/exec?command=env');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('WebSocket upgrade');
  });
});
