// What the real kubectl asks the OpenAPI routes for and gets: it sends Accept-Encoding: gzip (Go's
// transport) and receives the documents gzipped, inflating them transparently; `kubectl explain`
// (v3 JSON), `explain --output=plaintext-openapiv2` (v2 protobuf) and a validated `kubectl apply`
// work on the compressed documents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

interface Seen { path: string; acceptEncoding: string; contentEncoding: string; contentType: string; status: number }

describe.skipIf(!hasTool('kubectl', 'OpenAPI gzip e2e'))('kubectl and gzipped OpenAPI documents', () => {
  let c: KubectlCluster;
  const seen: Seen[] = [];
  beforeAll(async () => {
    c = await startKubectlCluster('sqlite', {
      middleware: async (ctx, next) => {
        await next();
        if (ctx.req.path.startsWith('/openapi/')) {
          seen.push({
            path: ctx.req.path, acceptEncoding: ctx.req.header('accept-encoding') ?? '', status: ctx.res.status,
            contentEncoding: ctx.res.headers.get('content-encoding') ?? '', contentType: ctx.res.headers.get('content-type') ?? '',
          });
        }
      },
    });
  }, 60_000);
  afterAll(() => c?.close());

  it('explains from gzipped v3 JSON and v2 protobuf, and applies with validation', async () => {
    expect(await c.kubectlOk(['explain', 'deployment.spec.replicas'])).toMatch(/FIELD:\s+replicas <integer>/);
    const v3 = seen.filter((s) => s.path === '/openapi/v3/apis/apps/v1' && s.status === 200);
    expect(v3.length).toBeGreaterThan(0);
    expect(v3.every((s) => s.acceptEncoding.includes('gzip') && s.contentEncoding === 'gzip' && s.contentType === 'application/json')).toBe(true);

    expect(await c.kubectlOk(['explain', '--output=plaintext-openapiv2', 'deployment.spec.replicas'])).toMatch(/FIELD:\s+replicas <integer>/);
    const v2 = seen.filter((s) => s.path === '/openapi/v2' && s.status === 200);
    expect(v2.length).toBeGreaterThan(0);
    expect(v2.every((s) => s.contentEncoding === 'gzip' && s.contentType.includes('protobuf'))).toBe(true);

    const manifest = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: main, image: registry.local/web:1}]}\n';
    expect((await c.kubectlOk(['apply', '-f', '-'], manifest)).trim()).toBe('deployment.apps/web created');
    const typo = await c.kubectl(['apply', '--validate=strict', '-f', '-'], manifest.replace('selector:', 'selectr:'));
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('selectr');
  }, 60_000);
});
