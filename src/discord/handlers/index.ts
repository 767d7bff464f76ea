/**
 * Every component handler, routed by the custom_id's action. To add a
 * family of buttons: its actions in src/discord/customId.ts, a file here
 * exporting a `defineHandler({...})`, and one entry in HANDLERS (an action
 * claimed twice, or by none, fails at start-up and in test/discord/handlers).
 */
import type { RepliableInteraction } from 'discord.js';
import type { AppContext } from '../context.js';
import { COMPONENT_ACTIONS, type ComponentAction, type ComponentActionName } from '../customId.js';
import type { RoutedHandler } from './handler.js';
import { cancelHandler } from './cancel.js';
import { extendModalHandler, followUpHandler } from './followUp.js';
import { historyPageHandler } from './historyPage.js';
import { batchHandler } from './batch.js';

export const HANDLERS: readonly RoutedHandler[] = [followUpHandler, extendModalHandler, cancelHandler, historyPageHandler, batchHandler];

export function byAction(handlers: readonly RoutedHandler[]): ReadonlyMap<ComponentActionName, RoutedHandler> {
  const map = new Map<ComponentActionName, RoutedHandler>();
  for (const h of handlers) {
    for (const action of h.actions) {
      if (map.has(action)) throw new Error(`two component handlers claim ${action}`);
      map.set(action, h);
    }
  }
  const missing = COMPONENT_ACTIONS.filter((a) => !map.has(a));
  if (missing.length > 0) throw new Error(`no component handler for ${missing.join(', ')}`);
  return map;
}

const ROUTES = byAction(HANDLERS);

/** The router's ComponentHandler: the action's handler parses, then runs. */
export async function handleComponent(interaction: RepliableInteraction, action: ComponentAction, ctx: AppContext): Promise<void> {
  const handler = ROUTES.get(action.action);
  if (!handler) return;
  await handler.handle(interaction, action, ctx);
}
