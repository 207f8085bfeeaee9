import { describe, expect, it } from 'vitest';
import type { Ingress, IngressClass } from '../../../api/types/ingress.js';
import { IngressTable, normalizeHost, skiffIngresses } from '../../../api/ingress/ingress-router.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

const backend = (name: string, port = 80) => ({ service: { name, port: { number: port } } });
const ingress = (name: string, spec: Ingress['spec'], created = '2026-01-01T00:00:00Z', extra: Partial<Ingress['metadata']> = {}): Ingress =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', creationTimestamp: created, ...extra }, spec });
const cls = (name: string, controller: string, isDefault = false): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', spec: { controller },
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
});
const to = (table: IngressTable, host: string | undefined, path: string) => table.match(host, path)?.service;

describe('IngressTable', () => {
  const table = new IngressTable([
    ingress('a', {
      rules: [
        { host: 'foo.example', http: { paths: [
          { path: '/', pathType: 'Prefix', backend: backend('root') },
          { path: '/foo/', pathType: 'Prefix', backend: backend('foo') },
          { path: '/foo/bar', pathType: 'Exact', backend: backend('exact') },
          { path: '/foo/bar', pathType: 'Prefix', backend: backend('prefix-bar') },
          { path: '/img', pathType: 'ImplementationSpecific', backend: backend('img') },
        ] } },
        { host: '*.example', http: { paths: [{ path: '/w', pathType: 'Prefix', backend: backend('wild') }] } },
        { http: { paths: [{ path: '/any', pathType: 'Prefix', backend: backend('hostless') }] } },
      ],
    }),
    ingress('b', { defaultBackend: backend('default-b'), rules: [{ host: 'foo.example', http: { paths: [{ path: '/foo', pathType: 'Prefix', backend: backend('later') }] } }] }, '2026-02-01T00:00:00Z'),
    ingress('c', { defaultBackend: backend('default-c') }, '2026-03-01T00:00:00Z'),
  ]);

  it('matches Prefix by whole path elements, Exact exactly, and prefers the longest path, Exact first', () => {
    expect(to(table, 'foo.example', '/')).toBe('root');
    expect(to(table, 'foo.example', '/foo')).toBe('foo'); // the rule's trailing slash is ignored; the older Ingress wins
    expect(to(table, 'foo.example', '/foo/')).toBe('foo');
    expect(to(table, 'foo.example', '/foobar')).toBe('root');
    expect(to(table, 'foo.example', '/foo/bar')).toBe('exact');
    expect(to(table, 'foo.example', '/foo/bar/')).toBe('prefix-bar');
    expect(to(table, 'foo.example', '/foo/bar?x=1')).toBe('exact');
    expect(to(table, 'foo.example', '/img/a.png')).toBe('img');
  });

  it('matches hosts case-insensitively without port, wildcards for one label, then rules without a host, then the oldest defaultBackend', () => {
    expect(to(table, 'FOO.example:8080', '/foo')).toBe('foo');
    expect(to(table, 'foo.example.', '/foo')).toBe('foo');
    expect(to(table, 'bar.example', '/w/x')).toBe('wild');
    expect(to(table, 'a.bar.example', '/w')).toBe('default-b');
    expect(to(table, 'example', '/w')).toBe('default-b');
    expect(to(table, 'other', '/any/thing')).toBe('hostless');
    expect(to(table, undefined, '/any')).toBe('hostless');
    expect(to(table, 'bad host!', '/any')).toBe('hostless');
    expect(to(table, 'other', 'no-slash')).toBe('default-b');
  });

  it('finds TLS by SNI, exact before wildcard', () => {
    const t = new IngressTable([ingress('t', { tls: [{ hosts: ['*.example'], secretName: 'wild' }, { hosts: ['a.example'], secretName: 'exact' }] })]);
    expect(t.tlsFor('a.example')?.secretName).toBe('exact');
    expect(t.tlsFor('B.example')?.secretName).toBe('wild');
    expect(t.tlsFor('x.b.example')).toBeUndefined();
    expect(t.tlsFor('')).toBeUndefined();
  });

  it('serves the Ingresses of its classes, and classless ones while its class is the only default', () => {
    const ings = [ingress('none', {}), ingress('ours', { ingressClassName: 'skiff' }), ingress('nginx', { ingressClassName: 'nginx' }),
      ingress('legacy', {}, undefined, { annotations: { 'kubernetes.io/ingress.class': 'skiff' } })];
    const names = (classes: IngressClass[]) => skiffIngresses(ings, classes).map((i) => i.metadata.name);
    expect(names([cls('skiff', 'skiff.dev/ingress', true), cls('nginx', 'k8s.io/ingress-nginx')])).toEqual(['none', 'ours', 'legacy']);
    expect(names([cls('skiff', 'skiff.dev/ingress'), cls('nginx', 'k8s.io/ingress-nginx', true)])).toEqual(['ours', 'legacy']);
  });

  it('never throws on hostile hosts and paths, in rules and in requests (seeded fuzz)', () => {
    const next = seededRandom(12);
    const pathTypes = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;
    for (let i = 0; i < 2000; i++) {
      const rules = Array.from({ length: 1 + Math.floor(next() * 4) }, () => ({
        ...(next() < 0.8 ? { host: next() < 0.3 ? `*.${hostileString(next, 3)}` : hostileString(next, 4) } : {}),
        http: { paths: [{ path: next() < 0.9 ? `/${hostileString(next, 4)}` : hostileString(next, 3), pathType: pathTypes[Math.floor(next() * 3)]!, backend: backend(`s${i}`) }] },
      }));
      const t = new IngressTable([ingress(`f${i}`, { rules, tls: [{ hosts: [hostileString(next, 3)], secretName: 'x' }] })]);
      for (let j = 0; j < 5; j++) {
        const host = next() < 0.3 ? (rules[0]!.host ?? '') : hostileString(next);
        const path = next() < 0.3 ? rules[0]!.http.paths[0]!.path : next() < 0.6 ? `/${hostileString(next)}` : hostileString(next);
        const found = t.match(host, path);
        if (found) expect(found.service).toBe(`s${i}`);
        expect(() => t.tlsFor(host)).not.toThrow();
        const h = normalizeHost(host);
        if (h !== undefined) expect(h).toMatch(/^[a-z0-9.:-]+$/);
      }
    }
  });
});
