/**
 * What a button on a result means, as pure domain logic: given the job whose
 * result was acted on, which new KIE request to make. The Discord side only
 * decodes the click and acknowledges it (parse/run split).
 */
import { PROMPT_MAX_LENGTH, type Speed } from './midjourney.js';
import { buildVideoRequest } from './prompt.js';
import { isFollowUpSpec, providerOf, providerPromptOf, specOf, type Job, type JobKind, type JobSpec } from './job.js';
import { canFollowUp, type FollowUpRequest, type ProviderCapabilities, type ProviderId, type ResultKind, type SourceRef } from './provider.js';

/**
 * The buttons' actions. The port's follow-ups, plus `vary_up`: the Vary
 * button KIE puts on an upscale (the port's `vary` on an upscale result),
 * kept under its own name so messages already posted keep working.
 */
export const FOLLOW_UP_ACTIONS = [
  'upscale',
  'vary',
  'reroll',
  'vary_up',
  'upscale_subtle',
  'upscale_creative',
  'vary_subtle',
  'vary_strong',
  'animate_high',
  'animate_low',
  'extend_auto',
  'extend_manual',
] as const;
export type FollowUpAction = (typeof FOLLOW_UP_ACTIONS)[number];

/** The port's action behind a button. */
export const portActionOf = (action: Exclude<FollowUpAction, 'reroll'>): FollowUpRequest['action'] => (action === 'vary_up' ? 'vary' : action);

/** A new job's core, before the interaction adds who/where. */
export interface JobDraft {
  kind: JobKind;
  /** The provider that runs it: a follow-up's is always its parent's. */
  provider: ProviderId;
  spec: JobSpec;
  promptText: string;
  speed: Speed | null;
  parent: Job['parent'];
  /** The provider account (a KIE key, by name) it must use: a follow-up's is its parent's (its task lives there). */
  account?: string;
}

export interface FollowUpContext {
  /** The grid an upscale came from (for Animate's prompt); null if gone. */
  grid: Job | null;
  /** The channel's video defaults. */
  video: { hd: boolean; batchSize: 1 | 2 | 4 };
  /** The continuation prompt from the manual-extend modal. */
  prompt?: string;
  /** What the parent's provider can do; an action it lacks is refused before anything is sent. */
  capabilities: ProviderCapabilities;
}

export type PlanResult = { ok: true; value: JobDraft } | { ok: false; message: string };

/** What a job's result looks like to a person, which decides its buttons. */
export function resultKindOfJob(kind: JobKind): ResultKind {
  if (kind === 'upscale') return 'upscale';
  if (kind === 'video' || kind === 'video_hd' || kind === 'extend') return 'video';
  return 'grid';
}

/** Whether a button for `action` belongs on a result of `kind` made by a provider with `caps`. */
export function offersAction(caps: ProviderCapabilities, kind: JobKind, action: Exclude<FollowUpAction, 'reroll'>): boolean {
  return canFollowUp(caps, resultKindOfJob(kind), portActionOf(action));
}

const fail = (message: string): PlanResult => ({ ok: false, message });

/** The prompt text the provider saw for a job (imagine/animate carry it; manual extends too; others inherit). */
export const kiePromptOf = (job: Job): string | null => providerPromptOf(job);

/** For an upscale: the grid task and position it was upscaled from (from its own spec), if known. */
export function gridOfUpscale(job: Job): SourceRef['grid'] {
  const spec = specOf(job);
  if (!isFollowUpSpec(spec) || spec.source.resultKind !== 'grid') return null;
  return { taskId: spec.source.taskId, position: spec.source.position };
}

const LABELS: Readonly<Record<Exclude<FollowUpAction, 'reroll'>, string>> = {
  upscale: 'Upscale',
  vary: 'Vary',
  vary_up: 'Vary',
  upscale_subtle: 'Upscale (Subtle)',
  upscale_creative: 'Upscale (Creative)',
  vary_subtle: 'Vary (Subtle)',
  vary_strong: 'Vary (Strong)',
  animate_high: 'Animate',
  animate_low: 'Animate',
  extend_auto: 'Extend',
  extend_manual: 'Extend',
};

const NEEDS: Readonly<Record<ResultKind, string>> = {
  grid: 'works on a 4-image grid',
  upscale: 'works on an upscaled image',
  video: 'works on a video',
};

/** Does this action need a finished result to act on? (🔄 also works on failures.) */
export const needsResult = (action: FollowUpAction): boolean => action !== 'reroll';

export function planFollowUp(parent: Job, action: FollowUpAction, position: number, ctx: FollowUpContext): PlanResult {
  const provider = providerOf(parent);
  // A follow-up (🔄 too) goes to the account that made its parent.
  const account = parent.account !== undefined ? { account: parent.account } : {};
  if (action === 'reroll') {
    if (parent.state !== 'succeeded' && parent.state !== 'failed') return fail('That job is still running; wait for it to finish.');
    return {
      ok: true,
      value: { kind: parent.kind, provider, spec: specOf(parent), promptText: parent.promptText, speed: parent.speed, parent: { jobId: parent.id, position: 0, action }, ...account },
    };
  }
  if (parent.state !== 'succeeded' || !parent.taskId) return fail('That result is not available (the job did not finish).');
  if (!Number.isInteger(position) || position < 0 || position >= parent.results.length) {
    return fail(`There is no result #${position + 1} on that message.`);
  }
  const link = { jobId: parent.id, position, action };
  const resultKind = resultKindOfJob(parent.kind);
  const portAction = portActionOf(action);
  // The grid's V buttons and an upscale's Vary share the port's 'vary'; each button keeps to its own result.
  if (action === 'vary' && resultKind !== 'grid') return fail('Vary works on a 4-image grid.');
  if (action === 'vary_up' && resultKind !== 'upscale') return fail('Vary works on an upscaled image.');
  if (!canFollowUp(ctx.capabilities, resultKind, portAction)) {
    const home = Object.entries(NEEDS).find(([kind]) => canFollowUp(ctx.capabilities, kind as ResultKind, portAction));
    return fail(home ? `${LABELS[action]} ${home[1]}.` : `${LABELS[action]} is not available for this result.`);
  }
  const grid = resultKind === 'upscale' ? gridOfUpscale(parent) : null;
  const source: SourceRef = {
    taskId: parent.taskId,
    position,
    resultKind,
    url: parent.results[position]!.url,
    ...(resultKind === 'upscale' ? { grid } : {}),
  };
  const draft = (kind: JobKind, spec: FollowUpRequest, extra: Partial<JobDraft> = {}): PlanResult => ({
    ok: true,
    value: { kind, provider, spec, promptText: parent.promptText, speed: parent.speed, parent: link, ...account, ...extra },
  });

  switch (action) {
    case 'upscale':
    case 'upscale_subtle':
    case 'upscale_creative':
      return draft('upscale', { action: portAction, source });
    case 'vary':
    case 'vary_subtle':
    case 'vary_strong':
      if (resultKind === 'upscale' && !grid) return fail('The grid this image was upscaled from is unknown, so it cannot be varied.');
      return draft('vary', { action: portAction, source }, resultKind === 'upscale' && grid ? { parent: { ...link, position: grid.position } } : {});
    case 'vary_up': {
      // Vary the grid image this upscale came from: the grid's task and this image's position.
      if (!grid) return fail('Vary works on an upscaled image.');
      return draft('vary', { action: 'vary', source }, { parent: { ...link, position: grid.position } });
    }
    case 'animate_high':
    case 'animate_low': {
      const built = buildVideoRequest({
        imageUrl: parent.results[position]!.url,
        prompt: (ctx.grid && providerPromptOf(ctx.grid)) ?? undefined,
        motion: action === 'animate_high' ? 'high' : 'low',
        hd: ctx.video.hd,
        batch: ctx.video.batchSize,
      });
      if (!built.ok) return fail(built.error.message);
      const video = built.value;
      return draft(
        ctx.video.hd ? 'video_hd' : 'video',
        { action, source, ...(video.prompt ? { prompt: video.prompt } : {}), video: { hd: video.hd, batch: video.batch } },
        { speed: null },
      );
    }
    case 'extend_auto':
    case 'extend_manual': {
      const manual = action === 'extend_manual';
      const prompt = ctx.prompt?.trim();
      if (manual && !prompt) return fail('Write how the video should continue.');
      if (manual && prompt!.length > PROMPT_MAX_LENGTH) return fail(`The continuation prompt is ${prompt!.length} characters; the limit is ${PROMPT_MAX_LENGTH}.`);
      return draft('extend', { action, source, ...(manual ? { prompt: prompt! } : {}) }, { speed: null, promptText: manual ? prompt! : parent.promptText });
    }
  }
}

/** KIE deletes results after ~14 days (NOTES.md); past that a follow-up cannot work. */
export const KIE_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

/** Whether the provider has (probably) deleted a job's results by `now`. */
export function resultsExpired(job: Job, now: number): boolean {
  const finishedAt = job.kieCompletedAt ?? job.finishedAt;
  return finishedAt !== null && now - finishedAt > KIE_RETENTION_MS;
}
