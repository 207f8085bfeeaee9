// A container slot's component: pulled when the slot has none or its image changed, with the
// kubelet's Pulling/Pulled events and pull progress; the slot shows ContainerCreating meanwhile.
import type { Clock } from '../../api/clock.js';
import type { DesiredPod } from '../../api/mqtt/messages.js';
import type { Container } from '../../api/types/pod.js';
import type { LoadedComponent } from '../../runtime/pod-runtime.js';
import type { ContainerSlot } from './container-slot.js';
import { pullProgress } from './pull-progress.js';

export interface SlotPullDeps {
  pullImage(container: Container, desired: DesiredPod, onProgress: (receivedBytes: number, totalBytes: number | undefined) => void): Promise<LoadedComponent>;
  clock: Clock;
  onEvent(type: 'Normal', reason: string, message: string, fieldPath?: string): void;
}

export async function pullSlot(slot: ContainerSlot, desired: DesiredPod, deps: SlotPullDeps, report: () => void): Promise<LoadedComponent> {
  if (slot.component && slot.componentImage === slot.spec.image) return slot.component;
  if (!slot.component) {
    slot.state = { waiting: { reason: 'ContainerCreating' } };
    report();
  }
  deps.onEvent('Normal', 'Pulling', `Pulling image "${slot.spec.image}"`, slot.fieldPath);
  const started = deps.clock.now();
  const component = await deps.pullImage(slot.spec, desired, pullProgress((message) => deps.onEvent('Normal', 'Pulling', `Pulling image "${slot.spec.image}": ${message}`, slot.fieldPath)));
  slot.component = component;
  slot.componentImage = slot.spec.image;
  slot.imageID = component.digest;
  deps.onEvent('Normal', 'Pulled', `Successfully pulled image "${slot.spec.image}" in ${deps.clock.now() - started}ms`, slot.fieldPath);
  return component;
}
