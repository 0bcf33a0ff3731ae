/**
 * The one base of edgedns's own errors: every error a room throws on purpose carries a stable,
 * machine-readable `code` (scripts and tests match on it, never on the message).
 */
export class EdgeError<C extends string = string> extends Error {
  constructor(readonly code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
