// `skiff kubeconfig`: mints a kubeconfig for someone other than the admin, on the control-plane host.
//   --user NAME [--group G]...        a client certificate (CN=NAME, O=G) signed by the cluster CA
//   --service-account NAMESPACE/NAME  a ServiceAccount token (TokenRequest, via the admin kubeconfig)
// What they may then do is for RBAC to say (kubectl create rolebinding ...).
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from './cluster-commands.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerKubeconfigCommand(program: Command): void {
  program.command('kubeconfig')
    .description('print a kubeconfig for a user (client certificate) or a ServiceAccount (token); RBAC decides what it may do')
    .option('--data-dir <dir>', 'the control plane\'s data dir (its CA and admin kubeconfig)', DEFAULT_DATA_DIR)
    .option('--user <name>', 'user name (the certificate\'s CN)')
    .option('--group <group>', 'a group of the user (the certificate\'s O; repeatable)', collect, [] as string[])
    .option('--service-account <namespace/name>', 'a ServiceAccount to mint a token for')
    .option('--duration <hours>', 'validity in hours (certificates: default 8760; tokens: 1 to 48, default 48)', Number)
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .action(async (opts: { dataDir: string; user?: string; group: string[]; serviceAccount?: string; duration?: number; output?: string }) => {
      const { mintKubeconfig } = await import('./kubeconfig-mint.js');
      const text = await mintKubeconfig({ adminKubeconfig: join(opts.dataDir, 'kubeconfig'), ...opts });
      if (opts.output) {
        const { writeFile, chmod } = await import('node:fs/promises');
        await writeFile(opts.output, text, { mode: 0o600 });
        await chmod(opts.output, 0o600);
      } else {
        process.stdout.write(text);
      }
    });
}
