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

/**
 * Discord refused our acknowledgement because the interaction was already
 * acknowledged (40060): another process (a rolling deploy, a second
 * `npm start`) owns it. Nothing may be sent to a provider for it, and the
 * user must not get a second answer.
 */
export class InteractionTakenError extends Error {
  constructor() {
    super('the interaction was already acknowledged by another process');
    this.name = 'InteractionTakenError';
  }
}
