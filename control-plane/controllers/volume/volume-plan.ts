// What the volume controller does next for one PersistentVolume (like the PV controller's
// syncVolume): an unclaimed volume is Available, a claimed one Bound; once its claim is gone it is
// Released and, with reclaim policy Delete, deleted (the node then removes a local-path directory).
import type { PersistentVolume, PersistentVolumeClaim } from '../../resources/kinds/config.js';

export type VolumeAction =
  | { action: 'none' }
  | { action: 'phase'; phase: 'Available' | 'Bound' | 'Released' }
  | { action: 'delete' };

/** `claim`: the claim its claimRef names (namespace/name), if that exists. */
export function planVolume(pv: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumeAction {
  if (pv.metadata.deletionTimestamp || pv.status?.phase === 'Failed') return { action: 'none' };
  const phase = pv.status?.phase;
  const ref = pv.spec.claimRef;
  const to = (p: 'Available' | 'Bound' | 'Released'): VolumeAction => (phase === p ? { action: 'none' } : { action: 'phase', phase: p });
  if (!ref) return to('Available');
  // pre-bound by a user (no uid yet): available to that claim only, until the controller binds it
  if (!ref.uid) return phase === 'Released' ? { action: 'none' } : to('Available');
  if (claim && claim.metadata.uid === ref.uid) return to('Bound');
  // the claim it was bound to is gone
  if (pv.spec.persistentVolumeReclaimPolicy === 'Delete') return { action: 'delete' };
  return to('Released');
}
