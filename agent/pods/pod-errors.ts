// Why a pod's container could not be pulled, or an exec could not run.

/** The container's waiting reason for an image it could not get (Kubernetes' names). */
export type ImagePullReason = 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName';

export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown; reason?: ImagePullReason }) {
    super(message, options);
    this.reason = options?.reason ?? 'ErrImagePull';
  }

  readonly reason: ImagePullReason;
}

/** A `kubectl exec` that cannot run: `code` is the HTTP status the API answers with. */
export class ExecUnavailableError extends Error {
  override readonly name = 'ExecUnavailableError';
  constructor(readonly code: number, message: string) {
    super(message);
  }
}
