// The local-path provisioner's conventions, shared by the control plane (which names the volumes)
// and the agent (which maps them into its data dir). Like Rancher's local-path-provisioner, a
// provisioned PersistentVolume is a hostPath under a fixed prefix, pinned to one node.

/** Provisioned volumes are `hostPath: {path: LOCAL_PATH_PREFIX/<dir>}`; an agent keeps them in DATA_DIR/volumes/local-path/<dir>. */
export const LOCAL_PATH_PREFIX = '/var/lib/skiff/local-path';

/** The provisioner skiff's default StorageClass names; Rancher's name is accepted as well. */
export const LOCAL_PATH_PROVISIONER = 'skiff.dev/local-path';
export const LOCAL_PATH_PROVISIONERS: readonly string[] = [LOCAL_PATH_PROVISIONER, 'rancher.io/local-path'];

/** The node the scheduler chose for a WaitForFirstConsumer claim (set on the claim before the pod is bound). */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

/**
 * The directory (one path segment) a node path under LOCAL_PATH_PREFIX lives in, or undefined when
 * the path is not under the prefix (or tries to leave it).
 */
export function localPathDir(path: string): string | undefined {
  const prefix = `${LOCAL_PATH_PREFIX}/`;
  if (!path.startsWith(prefix)) return undefined;
  const segments = path.slice(prefix.length).split('/').filter((s) => s !== '');
  const dir = segments[0];
  if (!dir || segments.some((s) => s === '..' || s === '.')) return undefined;
  return dir;
}
