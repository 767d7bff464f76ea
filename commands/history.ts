/**
 * /history [scope] [state] [kind] [user] [search] — past jobs, newest first,
 * 10 per page with ◀ ▶ buttons. Scope: just me (default), this channel, or
 * the whole server (Manage Server). Filtering by another person is for
 * managers (Manage Server) too. Replies are ephemeral; each line links to
 * the job's message. The filter is stored as a "view" (SQL) so the page
 * buttons carry only its id and a page number.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ButtonStyle,
  ComponentType,
  InteractionContextType,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { APIActionRowComponent, APIButtonComponentWithCustomId } from 'discord-api-types/v10';
import type { SlashCommand } from '../src/discord/command.js';
import { requirePermission } from '../src/discord/preconditions.js';
import type { AppContext } from '../src/discord/context.js';
import { encodeCustomId, PAGE_INDEX_MAX } from '../src/discord/customId.js';
import { fitPrompt, formatCredits, messageLink } from '../src/discord/render/format.js';
import { UserError } from '../src/domain/errors.js';
import { HISTORY_PAGE_SIZE, type HistoryFilter, type HistoryPage, type HistoryView, type JobHistory } from '../src/domain/history.js';
import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from '../src/domain/job.js';

export const HISTORY_SCOPES = ['me', 'channel', 'server'] as const;
export type HistoryScope = (typeof HISTORY_SCOPES)[number];
const SCOPE_NAMES: Record<HistoryScope, string> = { me: 'just me', channel: 'this channel', server: 'this server (Manage Server)' };
const SEARCH_MAX = 100;
const PROMPT_BUDGET = 70;

export const data = {
  name: 'history',
  description: 'Past jobs, newest first, with links to their messages',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'scope',
      description: 'Whose jobs (default: just me)',
      choices: HISTORY_SCOPES.map((s) => ({ name: SCOPE_NAMES[s], value: s })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'state',
      description: 'Only jobs in this state',
      choices: JOB_STATES.map((s) => ({ name: s, value: s })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'kind',
      description: 'Only jobs of this kind',
      choices: JOB_KINDS.map((k) => ({ name: k, value: k })),
    },
    { type: ApplicationCommandOptionType.User, name: 'user', description: 'Only this person’s jobs (Manage Server)' },
    { type: ApplicationCommandOptionType.String, name: 'search', description: 'Text the prompt contains', max_length: SEARCH_MAX },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export function historyOf(ctx: AppContext): JobHistory {
  const h = ctx['history'];
  if (!h) throw new Error('history is not wired into the app context');
  return h as JobHistory;
}

/** One line: prompt (escaped, one line), kind, speed, state, credits, relative time, jump link. */
export function historyLine(line: HistoryPage['lines'][number]): string {
  const parts = [
    `**${fitPrompt(line.promptText || '(no prompt)', PROMPT_BUDGET)}**`,
    line.kind,
    ...(line.speed ? [line.speed] : []),
    line.state,
    `${formatCredits(line.credits)} credits`,
    `<t:${Math.floor(line.createdAt / 1000)}:R>`,
  ];
  if (line.messageId) parts.push(`[jump](${messageLink(line.guildId, line.channelId, line.messageId)})`);
  return `• ${parts.join(' · ')}`;
}

function describeView(view: HistoryView): string {
  const f = view.filter;
  const who = f.userId ? `<@${f.userId}>’s jobs` : 'Jobs';
  const where = f.channelId ? ` in <#${f.channelId}>` : ' in this server';
  const extra = [f.state && `state ${f.state}`, f.kind && `kind ${f.kind}`, f.search && `containing “${fitPrompt(f.search, 40)}”`].filter(Boolean);
  return `${who}${where}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** The message for one page: header, lines, and ◀ ▶ (disabled at the ends). */
export function renderHistory(viewId: string, view: HistoryView, page: HistoryPage): { content: string; components: APIActionRowComponent<APIButtonComponentWithCustomId>[] } {
  const header = `**History** · ${describeView(view)} · page ${page.page + 1}`;
  const body = page.lines.length ? page.lines.map(historyLine).join('\n') : page.page === 0 ? 'No jobs match.' : 'No more jobs.';
  const prev = Math.max(0, page.page - 1);
  const next = Math.min(PAGE_INDEX_MAX, page.page + 1);
  const btn = (label: string, index: number, disabled: boolean): APIButtonComponentWithCustomId => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    custom_id: encodeCustomId({ action: 'history_page', viewId, index }),
    disabled,
  });
  const noMore = !page.hasMore || page.page >= PAGE_INDEX_MAX;
  return {
    content: `${header}\n${body}`.slice(0, 2000),
    components: page.page === 0 && noMore ? [] : [{ type: ComponentType.ActionRow, components: [btn('◀', prev, page.page === 0), btn('▶', next === prev ? prev + 1 : next, noMore)] }],
  };
}

const viewIdOf = (interactionId: string): string => BigInt(interactionId).toString(36);

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const o = interaction.options;
  const scope = (o.getString('scope') ?? 'me') as HistoryScope;
  const user = o.getUser('user');
  if (scope === 'server') requirePermission(interaction, 'ManageGuild', 'The whole server’s history', 'Try scope “this channel” or “just me”.');
  if (user && user.id !== interaction.user.id) requirePermission(interaction, 'ManageGuild', 'Filtering by another person');
  const filter: HistoryFilter = {
    guildId: interaction.guildId,
    ...(scope === 'channel' ? { channelId: interaction.channelId } : {}),
    ...(scope === 'me' ? { userId: interaction.user.id } : {}),
    ...(user ? { userId: user.id } : {}),
    ...(o.getString('state') ? { state: o.getString('state') as JobState } : {}),
    ...(o.getString('kind') ? { kind: o.getString('kind') as JobKind } : {}),
    ...(o.getString('search')?.trim() ? { search: o.getString('search')!.trim().slice(0, SEARCH_MAX) } : {}),
  };
  const view: HistoryView = { ownerId: interaction.user.id, filter, createdAt: ctx.clock.now() };
  const viewId = viewIdOf(interaction.id);
  const history = historyOf(ctx);
  await history.saveView(viewId, view);
  const page = await history.page(filter, 0, HISTORY_PAGE_SIZE);
  await interaction.editReply({ ...renderHistory(viewId, view, page), allowedMentions: { parse: [] } });
}

/** ◀ / ▶ on a /history reply: the stored view's page, updated in place. */
export async function handleHistoryPage(interaction: ButtonInteraction, viewId: string, pageNo: number, ctx: AppContext): Promise<void> {
  const history = historyOf(ctx);
  const view = await history.view(viewId, ctx.clock.now());
  if (!view) throw new UserError('This history has expired. Run /history again.');
  if (view.ownerId !== interaction.user.id) throw new UserError('These buttons belong to someone else’s /history. Run your own.');
  const page = await history.page(view.filter, pageNo, HISTORY_PAGE_SIZE);
  await interaction.update({ ...renderHistory(viewId, view, page), allowedMentions: { parse: [] } });
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
