// Keeps an external mosquitto's password file in step with the issued node credentials: the
// control plane's user, the bootstrap user (bootstrap token) and one `$7$` line per node, written
// atomically, then mosquitto is told to reload (SIGHUP re-reads password and ACL files; mosquitto
// 2.0 has no live API for them without the dynamic-security plugin).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { BOOTSTRAP_MQTT_USER } from '../../api/mqtt/node-credential.js';
import { mosquittoPasswordLine } from './mosquitto-config.js';

export interface MosquittoCredentialFiles {
  passwordFile: string;
  /** mosquitto's pid file (`pid_file` in its config): SIGHUP goes there. Or a custom reload. */
  pidFile?: string;
  reload?: () => Promise<void> | void;
}

export async function syncMosquittoCredentials(
  files: MosquittoCredentialFiles,
  controlPlaneUsers: Readonly<Record<string, string>>,
  bootstrapToken: string,
  /** The nodes' own password lines (control-plane/nodes/node-credentials.ts). */
  nodes: { mosquittoLines(): string[] },
): Promise<void> {
  const lines = [
    ...Object.entries(controlPlaneUsers).map(([user, password]) => mosquittoPasswordLine(user, password)),
    mosquittoPasswordLine(BOOTSTRAP_MQTT_USER, bootstrapToken),
    ...nodes.mosquittoLines(),
  ];
  const tmp = `${files.passwordFile}.tmp`;
  await writeFile(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
  await rename(tmp, files.passwordFile);
  if (files.reload) await files.reload();
  else if (files.pidFile) process.kill(Number((await readFile(files.pidFile, 'utf8')).trim()), 'SIGHUP');
}
