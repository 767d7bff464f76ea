/**
 * A UserError is the user's to fix (bad input, a limit, a disabled channel):
 * its message is shown to them as-is, ephemerally. Anything else is
 * unexpected: logged, and the user gets a generic apology.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
