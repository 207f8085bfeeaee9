// /version and the health probes: unauthenticated, tiny, always answered.
import type { Hono } from 'hono';
import { SKIFF_VERSION } from '../../api/version.js';

/** The Kubernetes API level skiff speaks; kubectl compares it with its own for skew warnings. */
export const kubeMajor = '1';
export const kubeMinor = '32';

export function versionInfo() {
  return {
    major: kubeMajor,
    minor: kubeMinor,
    gitVersion: `v${kubeMajor}.${kubeMinor}.0-skiff`,
    gitCommit: SKIFF_VERSION,
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch}`,
  };
}

export function registerVersionRoutes(app: Hono): void {
  app.get('/version', (c) => c.json(versionInfo()));
  for (const path of ['/healthz', '/readyz', '/livez']) app.get(path, (c) => c.text('ok'));
}
