/** ◀ / ▶ on a /history reply (the page itself is rendered by commands/history.ts). */
import { handleHistoryPage } from '../../../commands/history.js';
import { defineHandler } from './handler.js';

export const historyPageHandler = defineHandler({
  actions: ['history_page'],
  parse(interaction, action) {
    if (!interaction.isButton()) return 'ignore';
    return { request: { interaction, viewId: action.viewId, page: action.index } };
  },
  run: ({ interaction, viewId, page }, ctx) => handleHistoryPage(interaction, viewId, page, ctx),
});
