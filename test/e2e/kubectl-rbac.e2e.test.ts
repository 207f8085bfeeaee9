// RBAC with the real kubectl against a real control plane (startControlPlane: bootstrap policy, the
// RBAC cache, the aggregation controller): auth whoami, auth can-i per default role (by impersonation,
// --as/--as-group), can-i --list, Forbidden errors as kubectl prints them, the RBAC kinds' tables.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../control-plane/api/kubeconfig.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/control-plane.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';

interface Result { code: number; stdout: string; stderr: string }

describe.skipIf(!hasTool('kubectl', 'kubectl RBAC e2e'))('kubectl and RBAC', () => {
  let dir: string;
  let cp: RunningControlPlane;
  const kubectl = (args: string[], stdin?: string) => new Promise<Result>((resolve) => {
    const child = execFile(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: cp.kubeconfigPath }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
  const ok = async (args: string[], stdin?: string) => {
    const r = await kubectl(args, stdin);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  /** `kubectl auth can-i` (exit 0 yes, 1 no), retried until it says `want` (bindings reach the authorizer by a watch). */
  const canI = async (args: string[], want: 'yes' | 'no', timeoutMs = 15_000) => {
    for (const deadline = Date.now() + timeoutMs; ;) {
      const r = await kubectl(['auth', 'can-i', ...args]);
      const said = r.stdout.trim();
      if (said === want) {
        expect(r.code).toBe(want === 'yes' ? 0 : 1);
        return;
      }
      if (Date.now() > deadline) throw new Error(`kubectl auth can-i ${args.join(' ')}: ${said} (want ${want}) ${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-kubectl-rbac-'));
    cp = await startControlPlane({ dataDir: dir, logger: pino({ level: 'warn' }), apiPort: 0, mqtt: { host: '127.0.0.1', port: 0 } });
    await ok(['create', 'namespace', 'team']);
  }, 90_000);
  afterAll(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('auth whoami: the admin kubeconfig is in system:masters', async () => {
    const me = JSON.parse(await ok(['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(me.status.userInfo).toEqual({ username: 'admin', groups: ['system:masters', 'system:authenticated'] });
    expect(await ok(['auth', 'whoami'])).toMatch(/Username\s+admin/);
    const alice = await ok(['auth', 'whoami', '--as=alice', '--as-group=devs']);
    expect(alice).toMatch(/Username\s+alice/);
    expect(alice).toMatch(/devs/);
  }, 60_000);

  it('auth can-i for the default roles, bound with kubectl create rolebinding / clusterrolebinding', async () => {
    await canI(['*', '*'], 'yes');
    for (const role of ['view', 'edit', 'admin']) await ok(['create', 'rolebinding', `${role}-binding`, `--clusterrole=${role}`, `--user=${role}-user`, '-n', 'team']);
    await ok(['create', 'clusterrolebinding', 'root-binding', '--clusterrole=cluster-admin', '--group=roots']);
    const matrix: Array<[string[], Record<string, 'yes' | 'no'>]> = [
      [['list', 'pods', '-n', 'team'], { 'view-user': 'yes', 'edit-user': 'yes', 'admin-user': 'yes', nobody: 'no' }],
      [['get', 'secrets', '-n', 'team'], { 'view-user': 'no', 'edit-user': 'yes', 'admin-user': 'yes' }],
      [['create', 'deployments.apps', '-n', 'team'], { 'view-user': 'no', 'edit-user': 'yes', 'admin-user': 'yes' }],
      [['create', 'pods/exec', '-n', 'team'], { 'view-user': 'no', 'edit-user': 'yes' }],
      [['create', 'rolebindings', '-n', 'team'], { 'view-user': 'no', 'edit-user': 'no', 'admin-user': 'yes' }],
      [['list', 'pods', '-n', 'default'], { 'view-user': 'no', 'admin-user': 'no' }],
      [['list', 'nodes'], { 'admin-user': 'no' }],
    ];
    for (const [args, answers] of matrix) {
      for (const [user, want] of Object.entries(answers)) await canI([...args, `--as=${user}`], want);
    }
    await canI(['delete', 'nodes', '--as=someone', '--as-group=roots'], 'yes');
    await canI(['get', '/healthz', '--as=someone'], 'yes');
    await canI(['get', '/metrics', '--as=someone'], 'no');
  }, 180_000);

  it('auth can-i --list shows the rules held in a namespace', async () => {
    await canI(['list', 'pods', '-n', 'team', '--as=view-user'], 'yes');
    const list = await ok(['auth', 'can-i', '--list', '-n', 'team', '--as=view-user']);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]/m);
    expect(list).toMatch(/selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/m);
    expect(list).not.toMatch(/^secrets\s/m);
  }, 60_000);

  it('auth can-i --list as a node warns that the list is incomplete, as the real server makes it', async () => {
    const r = await kubectl(['auth', 'can-i', '--list', '--as=system:node:node-1', '--as-group=system:nodes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Warning: the list may be incomplete: rules of authorizers other than RBAC are not listed/);
    expect(r.stdout).toMatch(/selfsubjectrulesreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/m);
  }, 60_000);

  it('kubectl sees Forbidden as the real server words it, and the RBAC kinds print as tables', async () => {
    await canI(['list', 'pods', '-n', 'team', '--as=view-user'], 'yes');
    const pods = await kubectl(['get', 'pods', '-n', 'team', '--as=view-user']);
    expect(pods.code).toBe(0);
    expect(pods.stderr).toMatch(/No resources found in team namespace/);
    const denied = await kubectl(['get', 'secrets', '-n', 'team', '--as=view-user']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('Error from server (Forbidden): secrets is forbidden: User "view-user" cannot list resource "secrets" in API group "" in the namespace "team"');
    const cluster = await kubectl(['create', 'clusterrolebinding', 'me-root', '--clusterrole=cluster-admin', '--user=admin-user', '--as=admin-user']);
    expect(cluster.stderr).toContain('clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "admin-user" cannot create resource "clusterrolebindings"');
    // a namespace admin may create RoleBindings, but not to a role with more than it holds
    const escalate = await kubectl(['create', 'rolebinding', 'me-root', '--clusterrole=cluster-admin', '--user=admin-user', '-n', 'team', '--as=admin-user']);
    expect(escalate.code).not.toBe(0);
    expect(escalate.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    await ok(['create', 'rolebinding', 'delegated-view', '--clusterrole=view', '--user=someone', '-n', 'team', '--as=admin-user']);
    const roles = await ok(['get', 'clusterroles']);
    expect(roles).toMatch(/^NAME\s+CREATED AT/);
    expect(roles).toMatch(/^cluster-admin\s/m);
    expect(roles).toMatch(/^view\s/m);
    const bindings = await ok(['get', 'rolebindings', '-n', 'team', '-o', 'wide']);
    expect(bindings).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS/);
    expect(bindings).toMatch(/^view-binding\s+ClusterRole\/view\s+\S+\s+view-user/m);
    expect(await ok(['get', 'clusterrolebindings', 'cluster-admin', '-o', 'wide'])).toMatch(/system:masters/);
    expect(await ok(['explain', 'clusterrole.aggregationRule'])).toMatch(/clusterRoleSelectors/);
  }, 60_000);

  it('ServiceAccounts: default per namespace, kubectl create token, the token used and revoked', async () => {
    for (const deadline = Date.now() + 15_000; ;) {
      if ((await kubectl(['get', 'serviceaccount', 'default', '-n', 'team'])).code === 0) break;
      if (Date.now() > deadline) throw new Error('no default ServiceAccount in team');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: team}\n');
    await ok(['create', 'rolebinding', 'builder-view', '--clusterrole=view', '--serviceaccount=team:builder', '-n', 'team']);
    const token = (await ok(['create', 'token', 'builder', '-n', 'team', '--duration=20m'])).trim();
    expect(token.split('.')).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
    expect(claims['sub']).toBe('system:serviceaccount:team:builder');
    expect(claims['exp'] - claims['iat']).toBe(1200);
    const as = (args: string[]) => kubectl([...args, `--token=${token}`]);
    const who = await as(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(who.stdout).status.userInfo).toEqual({ username: 'system:serviceaccount:team:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
    for (const deadline = Date.now() + 15_000; ;) {
      if ((await as(['get', 'pods', '-n', 'team'])).code === 0) break;
      if (Date.now() > deadline) throw new Error('the ServiceAccount token never listed pods');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await as(['get', 'secrets', '-n', 'team'])).stderr).toContain('User "system:serviceaccount:team:builder" cannot list resource "secrets"');
    // another audience is not this API's
    const other = (await ok(['create', 'token', 'builder', '-n', 'team', '--audience=https://elsewhere.example'])).trim();
    expect((await kubectl(['get', 'pods', '-n', 'team', `--token=${other}`])).stderr).toMatch(/Unauthorized|must be logged in/);
    expect((await kubectl(['create', 'token', 'builder', '-n', 'team', '--duration=1m'])).stderr).toContain('may not specify a duration less than 600 seconds');
    // deleting the ServiceAccount revokes its tokens
    await ok(['delete', 'serviceaccount', 'builder', '-n', 'team']);
    expect((await as(['get', 'pods', '-n', 'team'])).stderr).toMatch(/Unauthorized|must be logged in/);
  }, 90_000);

  it('skiff kubeconfig: a client certificate for a user and its groups, a token for a ServiceAccount; forged certificates are nobody', async () => {
    const { mintKubeconfig } = await import('../../cli/kubeconfig-mint.js');
    const carolPath = join(dir, 'carol.kubeconfig');
    await writeFile(carolPath, await mintKubeconfig({ dataDir: dir, adminKubeconfig: cp.kubeconfigPath, user: 'carol', group: ['auditors', 'qa'] }), { mode: 0o600 });
    const carol = (args: string[]) => kubectl([...args, `--kubeconfig=${carolPath}`]);
    const me = JSON.parse((await carol(['auth', 'whoami', '-o', 'json'])).stdout) as { status: { userInfo: unknown } };
    expect(me.status.userInfo).toEqual({ username: 'carol', groups: ['auditors', 'qa', 'system:authenticated'] });
    expect((await carol(['get', 'pods', '-n', 'team'])).stderr).toContain('User "carol" cannot list resource "pods"');
    await ok(['create', 'rolebinding', 'auditors-view', '--clusterrole=view', '--group=auditors', '-n', 'team']);
    for (const deadline = Date.now() + 15_000; ;) {
      if ((await carol(['get', 'pods', '-n', 'team'])).code === 0) break;
      if (Date.now() > deadline) throw new Error('the auditors binding never applied');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const saPath = join(dir, 'sa.kubeconfig');
    await writeFile(saPath, await mintKubeconfig({ dataDir: dir, adminKubeconfig: cp.kubeconfigPath, serviceAccount: 'team/default', group: [], duration: 2 }));
    const sa = JSON.parse((await kubectl(['auth', 'whoami', '-o', 'json', `--kubeconfig=${saPath}`])).stdout) as { status: { userInfo: { username: string } } };
    expect(sa.status.userInfo.username).toBe('system:serviceaccount:team:default');
    await expect(mintKubeconfig({ dataDir: dir, adminKubeconfig: cp.kubeconfigPath, user: 'x', serviceAccount: 'a/b', group: [] })).rejects.toThrow(/exactly one/);
    await expect(mintKubeconfig({ dataDir: dir, adminKubeconfig: cp.kubeconfigPath, serviceAccount: '../b', group: [] })).rejects.toThrow(/NAMESPACE\/NAME/);
    // a certificate from another CA, claiming system:masters, authenticates nobody
    const { generate } = await import('selfsigned');
    const forged = await generate([{ name: 'commonName', value: 'mallory' }, { name: 'organizationName', value: 'system:masters' }], { keyType: 'ec', algorithm: 'sha256' });
    const forgedPath = join(dir, 'forged.kubeconfig');
    await writeFile(forgedPath, renderKubeconfig({ server: cp.apiUrl, caCert: cp.caCert, clientCert: forged.cert, clientKey: forged.private }));
    const r = await kubectl(['get', 'secrets', '-A', `--kubeconfig=${forgedPath}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
  }, 90_000);

  it('impersonation needs the impersonate verb', async () => {
    const r = await kubectl(['get', 'pods', '-n', 'team', '--as=edit-user', '--as=view-user']);
    expect(r.code).toBe(0); // kubectl takes the last --as; admin may impersonate anyone
    await ok(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '-n', 'team']);
    await canI(['impersonate', 'users', '--as=edit-user'], 'no');
    await canI(['impersonate', 'serviceaccounts', '-n', 'team', '--as=edit-user'], 'yes');
  }, 60_000);

  it('the audit log under DATA_DIR/audit has the kubectl writes, refused ones included', async () => {
    const read = async () => (await readFile(join(dir, 'audit', 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    for (const deadline = Date.now() + 10_000; ;) {
      const entries = await read().catch(() => []);
      const created = entries.some((e) => e['user'].username === 'admin' && e['verb'] === 'create' && e['resource']?.resource === 'rolebindings' && e['code'] === 201);
      const refused = entries.some((e) => e['user'].username === 'admin-user' && e['impersonatedBy']?.username === 'admin' && e['code'] === 403);
      if (created && refused) break;
      if (Date.now() > deadline) throw new Error('the audit log lacks the expected entries');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
