// Why a pod's container could not be pulled, or an exec could not run.

export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A `kubectl exec` that cannot run: `code` is the HTTP status the API answers with. */
export class ExecUnavailableError extends Error {
  override readonly name = 'ExecUnavailableError';
  constructor(readonly code: number, message: string) {
    super(message);
  }
}
