// A container that could not start (image, configuration or volume not ready): its waiting state,
// the event saying why, and one more failure for the back-off.
import { ContainerConfigError } from './container-config.js';
import type { ContainerSlot } from './container-slot.js';
import { ImagePullError } from './pod-errors.js';
import { VolumeNotReadyError } from './pod-volumes.js';

export function recordNotStarted(slot: ContainerSlot, error: unknown, onEvent: (type: 'Warning', reason: string, message: string, fieldPath?: string) => void): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof VolumeNotReadyError) {
    slot.state = { waiting: { reason: 'ContainerCreating', message } };
    onEvent('Warning', 'FailedMount', `Unable to attach or mount volumes: ${message}`, slot.fieldPath);
  } else if (error instanceof ContainerConfigError) {
    slot.state = { waiting: { reason: 'CreateContainerConfigError', message } };
    onEvent('Warning', 'Failed', `Error: ${message}`, slot.fieldPath);
  } else {
    slot.state = { waiting: { reason: error instanceof ImagePullError ? error.reason : 'ErrImagePull', message } };
    onEvent('Warning', 'Failed', `Failed to pull image "${slot.spec.image}": ${message}`, slot.fieldPath);
  }
  slot.pullFailures++;
}
