/** What went wrong, for callers that react differently (show a message, retry, fall back). */
export type MMNetErrorCode = 'bad-image' | 'bad-argument' | 'model-load' | 'backend';

export class MMNetError extends Error {
  override readonly name = 'MMNetError';

  constructor(
    readonly code: MMNetErrorCode,
    message: string,
    /** The model file concerned, for `model-load` errors. */
    readonly file?: string,
  ) {
    super(message);
  }
}
