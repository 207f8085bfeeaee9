// The web dashboard in Debian's headless Chromium: sign in with the admin token, see the node with
// its lease and conditions, the pods per node, where the Deployment's pods run and recent events,
// and watch them change live; then a screenshot of the page is checked for those parts.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Pod } from '../../api/types/pod.js';
import { pushComponent } from '../../cli/push-command.js';
import { decodePng } from '../support/png.js';
import { hasTool } from '../support/tools.js';
import { launchChromium, type HeadlessBrowser } from './browser.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const PODS = '/api/v1/namespaces/default/pods';
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

describe.skipIf(!hasTool('chromium', 'dashboard e2e'))('the web dashboard in headless Chromium', () => {
  let cluster: Cluster;
  let chromium: HeadlessBrowser;
  let page: Page;
  let shots: string;

  beforeAll(async () => {
    shots = await mkdtemp(join(tmpdir(), 'skiff-dashboard-'));
    cluster = await startCluster({ agents: 1 });
    for (const name of ['hello', 'sleep']) await pushComponent(cluster.cp.kubeconfigPath, `wasm-examples/${name}/${name}.wasm`, `examples/${name}:latest`);
    await cluster.client.request('POST', DEPLOYMENTS, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'examples/sleep:latest', args: ['3600'] }] } },
      },
    });
    await cluster.client.request('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hello' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'examples/hello:latest' }] } });
    await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3Dhello`, (e) => e.object.status?.phase === 'Succeeded', 60_000);
    chromium = await launchChromium();
    page = await chromium.context.newPage();
  }, 120_000);
  afterAll(async () => {
    await chromium?.close();
    await cluster?.stop();
    // SKIFF_KEEP_SCREENSHOTS=DIR keeps the picture for a person to look at
    if (shots && process.env['SKIFF_KEEP_SCREENSHOTS']) await cp(join(shots, 'dashboard.png'), join(process.env['SKIFF_KEEP_SCREENSHOTS'], 'dashboard.png')).catch(() => undefined);
    if (shots) await rm(shots, { recursive: true, force: true });
  });

  it('asks for a token first, and refuses a wrong one', async () => {
    await page.goto(`${cluster.cp.apiUrl}/dashboard/`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    expect(await page.textContent('.error')).toContain('not valid');
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
  });

  it('signs in with the admin token and shows the node, its lease and its pods', async () => {
    await page.fill('#token', cluster.cp.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/dashboard\/$/);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'skiff_session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    const node = page.locator('#nodes tr[data-node="node-1"]');
    await node.waitFor();
    await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('Ready');
    // leases are listed every 3 s: the first list may predate the node's first lease ("no lease")
    await expect.poll(() => node.locator('.lease-age').textContent(), { timeout: 20_000 }).toMatch(/^\d+s$/);
    await page.locator('#pods [data-pod="default/hello"][data-status="Succeeded"]').waitFor();
    await expect.poll(() => page.locator('#pods [data-node="node-1"] [data-status="Running"]').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.textContent('#live')).toBe('live');
  });

  it('maps where the Deployment\'s pods run, and follows a scale-up live', async () => {
    const cell = page.locator('#deployments td[data-deployment="default/web"][data-node="node-1"]');
    await expect.poll(() => cell.textContent(), { timeout: 30_000 }).toBe('2');
    const scaled = await cluster.client.request('PATCH', `${DEPLOYMENTS}/web/scale`, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    expect(scaled.status).toBe(200);
    await expect.poll(() => cell.textContent(), { timeout: 30_000 }).toBe('3');
    await expect.poll(() => page.locator('#deployments tr[data-deployment="default/web"] td').nth(1).textContent(), { timeout: 30_000 }).toBe('3/3');
  });

  it('lists recent events and drops a deleted pod live', async () => {
    await expect.poll(() => page.locator('#events tr[data-reason="Scheduled"]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.locator('#events tr[data-reason="Started"]').count()).toBeGreaterThan(0);
    expect((await cluster.client.request('DELETE', `${PODS}/hello`)).status).toBe(200);
    await page.locator('#pods [data-pod="default/hello"]').waitFor({ state: 'detached', timeout: 20_000 });
  });

  it('renders a screenshot with the header, the node table, the Deployment map, the pods and the events', async () => {
    const file = join(shots, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const picture = decodePng(await readFile(file));
    const { width, height } = picture;
    expect(width).toBe(1280);
    expect(height).toBeGreaterThan(500);
    expect(picture.distinctColours()).toBeGreaterThan(20); // a drawn page, not a blank one
    expect(picture.rgb(5, 5)).toBe(0x102a43); // the header's colour, at the top
    for (const selector of ['header', '#nodes', '#deployments', '#pods', '#events']) {
      const box = await page.locator(selector).boundingBox();
      expect(box, selector).not.toBeNull();
      expect(box!.width * box!.height, selector).toBeGreaterThan(1000);
      expect(box!.y + box!.height, selector).toBeLessThanOrEqual(height);
      // each part, cut from the page's picture, has drawn text in it
      const part = decodePng(await page.locator(selector).screenshot());
      expect(part.distinctColours(), selector).toBeGreaterThan(3);
    }
    expect(await page.textContent('#summary')).toMatch(/1\/1 nodes Ready · \d+ pods \(\d+ running\) · 1 Deployment$/);
  });

  it('signs out: the session no longer reads the API', async () => {
    await Promise.all([page.waitForURL(/\/dashboard\/login$/), page.click('header button[type=submit]')]);
    const status = await page.evaluate(async () => (await fetch('/api/v1/pods', { headers: { 'x-skiff-dashboard': '1' } })).status);
    expect(status).toBe(401);
  });
});
