// The dashboard's files (assets/: two HTML pages, one script, one stylesheet; no build step, no
// framework), read once when the control plane starts, from the source tree or next to dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  index: string;
  login: string;
  files: Map<string, { body: string; contentType: string }>;
}

function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // control-plane/dashboard/assets from source; dist/control-plane/dashboard -> ../../../control-plane/dashboard/assets
  for (const dir of [join(here, 'assets'), join(here, '..', '..', '..', 'control-plane', 'dashboard', 'assets')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('cannot find the dashboard assets (control-plane/dashboard/assets)');
}

export function loadDashboardAssets(dir = assetsDir()): DashboardAssets {
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    index: read('index.html'),
    login: read('login.html'),
    files: new Map([
      ['app.js', { body: read('app.js'), contentType: 'text/javascript; charset=utf-8' }],
      ['app.css', { body: read('app.css'), contentType: 'text/css; charset=utf-8' }],
    ]),
  };
}
