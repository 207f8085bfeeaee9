// The one `skiff` command: up, control-plane, agent, push, run.
import { Command } from 'commander';
import { SKIFF_VERSION } from '../api/version.js';
import { registerClusterCommands } from './cluster-commands.js';
import { registerPushCommand } from './push-command.js';
import { registerRunCommand } from './run.js';

const program = new Command('skiff')
  .description('Kubernetes for WebAssembly on the edge')
  .version(SKIFF_VERSION)
  .showHelpAfterError();

registerClusterCommands(program);
registerPushCommand(program);
registerRunCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`skiff: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
