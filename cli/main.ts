// The one `skiff` command: up, control-plane, agent, push, run, kubeconfig.
import './agent-jit.js'; // first: it may set V8 flags before anything else loads
import { Command } from 'commander';
import { SKIFF_VERSION } from '../api/version.js';
import { registerClusterCommands } from './cluster-commands.js';

// Modules that define other subcommands are imported only when their subcommand is the one asked
// for (or for help): on a small device `skiff agent` must not pay for `push`'s YAML parser or
// `run`'s option parsing. The cluster commands import their heavy parts inside their actions.
const lazyCommands: Record<string, () => Promise<(program: Command) => void>> = {
  push: async () => (await import('./push-command.js')).registerPushCommand,
  run: async () => (await import('./run.js')).registerRunCommand,
  kubeconfig: async () => (await import('./kubeconfig-command.js')).registerKubeconfigCommand,
};
const CLUSTER_COMMANDS = new Set(['up', 'control-plane', 'agent']);

const program = new Command('skiff')
  .description('Kubernetes for WebAssembly on the edge')
  .version(SKIFF_VERSION)
  .showHelpAfterError();

registerClusterCommands(program);
const asked = process.argv[2];
for (const [name, load] of Object.entries(lazyCommands)) {
  if (asked !== undefined && CLUSTER_COMMANDS.has(asked)) break;
  if (asked === undefined || asked === name || !(asked in lazyCommands)) (await load())(program);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`skiff: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
