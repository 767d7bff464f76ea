/**
 * The shape of a component handler (buttons and modal submits), one file
 * per action family, as favware/dragonite's interaction handlers and
 * sapphire's handler store do: `parse` turns the decoded custom_id and the
 * interaction into a typed request (or a refusal, shown privately; or
 * 'ignore' for an interaction of a kind the action never comes as), and
 * `run` does the work through the domain. The router has already decoded the
 * custom_id (src/discord/customId.ts) and owns error handling.
 */
import type { RepliableInteraction } from 'discord.js';
import { UserError } from '../../domain/errors.js';
import type { AppContext } from '../context.js';
import type { ComponentAction, ComponentActionName } from '../customId.js';

/** The decoded custom_id of one of `A`'s actions. */
export type ActionOf<A extends ComponentActionName> = ComponentAction & { action: A };

export type Parsed<R> = { request: R } | { refusal: string } | 'ignore';

export interface ComponentHandler<A extends ComponentActionName, R> {
  /** The custom_id actions this handler answers; each action has exactly one handler. */
  readonly actions: readonly A[];
  parse(interaction: RepliableInteraction, action: ActionOf<A>): Parsed<R>;
  run(request: R, ctx: AppContext): Promise<void>;
}

/** A handler as the routing table holds it: parse then run, with the request's type kept inside. */
export interface RoutedHandler {
  readonly actions: readonly ComponentActionName[];
  /** Parse, then run; a refusal becomes a UserError (shown privately by the router). */
  handle(interaction: RepliableInteraction, action: ComponentAction, ctx: AppContext): Promise<void>;
}

export function defineHandler<A extends ComponentActionName, R>(handler: ComponentHandler<A, R>): ComponentHandler<A, R> & RoutedHandler {
  return {
    ...handler,
    async handle(interaction, action, ctx) {
      const parsed = handler.parse(interaction, action as ActionOf<A>);
      if (parsed === 'ignore') return;
      if ('refusal' in parsed) throw new UserError(parsed.refusal);
      await handler.run(parsed.request, ctx);
    },
  };
}
