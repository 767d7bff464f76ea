/**
 * planFollowUp, as a table: for every button action, which KIE request it
 * makes from which parent job (endpoint, taskId, the endpoint's own index
 * convention), and the refusals — wrong kind of result, positions that don't
 * exist, unfinished parents, missing continuation prompts.
 */
import { describe, expect, it } from 'vitest';
import { FOLLOW_UP_ACTIONS, kiePromptOf, needsResult, planFollowUp, type FollowUpAction, type FollowUpContext, type JobDraft } from '../../src/domain/actions.js';
import type { Job, JobKind, JobResult } from '../../src/domain/job.js';
import { DEFAULT_ANIMATE_PROMPT } from '../../src/domain/prompt/index.js';
import { PROMPT_MAX_LENGTH, type KieTaskRequest } from '../../src/providers/kie/schemas.js';
import { storedJob } from '../support/jobFixtures.js';
import { KIE_CAPABILITIES, toKieRequest } from '../../src/providers/kie/adapter.js';
import { APIXO_CAPABILITIES } from '../../src/providers/apixo/adapter.js';
import { specOf } from '../../src/domain/job.js';

const images = (n: number, task: string): JobResult[] =>
  Array.from({ length: n }, (_, i) => ({ url: `https://kie.example/${task}/${i}.png`, kind: 'image' as const }));
const clips = (n: number, task: string): JobResult[] =>
  Array.from({ length: n }, (_, i) => ({ url: `https://kie.example/${task}/${i}.mp4`, kind: 'video' as const }));

function finished(id: string, kind: JobKind, request: KieTaskRequest, results: JobResult[], overrides: Partial<Job> = {}): Job {
  return storedJob(
    {
      id,
      state: 'succeeded',
      taskId: `${id}-task`,
      // Stored as jobs were before the port (a KIE body), so the legacy reading is exercised too.
      spec: undefined,
      request,
      results,
      promptText: 'a red fox --ar 16:9',
      speed: 'fast',
      delivered: true,
      ...overrides,
    },
    kind,
  );
}

const GRID = finished(
  'grid',
  'grid',
  { op: 'generate', body: { taskType: 'mj_txt2img', prompt: 'a red fox', aspectRatio: '16:9', speed: 'fast' } },
  images(4, 'grid'),
);
const VARY = finished('vary', 'vary', { op: 'vary', body: { taskId: 'grid-task', imageIndex: 2 } }, images(4, 'vary'), {
  parent: { jobId: 'grid', position: 1, action: 'vary' },
});
/** U2 of GRID (imageIndex 1). */
const UPSCALE = finished('up', 'upscale', { op: 'upscale', body: { taskId: 'grid-task', imageIndex: 1 } }, images(1, 'up'), {
  parent: { jobId: 'grid', position: 1, action: 'upscale' },
});
const VIDEO = finished(
  'video',
  'video',
  { op: 'generate', body: { taskType: 'mj_video', prompt: 'a red fox', fileUrls: ['https://kie.example/up/0.png'], motion: 'high', videoBatchSize: 2 } },
  clips(2, 'video'),
  { speed: null },
);
const VIDEO_HD = finished(
  'videohd',
  'video_hd',
  { op: 'generate', body: { taskType: 'mj_video_hd', prompt: 'a red fox', fileUrls: ['https://kie.example/up/0.png'], motion: 'low', videoBatchSize: 1 } },
  clips(1, 'videohd'),
  { speed: null },
);
const EXTENSION = finished(
  'ext',
  'extend',
  { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: 'video-task', index: 0 } },
  clips(1, 'ext'),
  { speed: null },
);
const RUNNING = { ...GRID, id: 'running', state: 'running', results: [], delivered: false } satisfies Job;
const FAILED = { ...GRID, id: 'failed', state: 'failed', results: [], error: { code: '501', message: 'Banned prompt' } } satisfies Job;
const NO_TASK = { ...GRID, id: 'notask', taskId: null } satisfies Job;

const CTX: FollowUpContext = { grid: GRID, video: { hd: false, batchSize: 1 }, capabilities: KIE_CAPABILITIES };
const APIXO = { capabilities: APIXO_CAPABILITIES };

interface Case {
  name: string;
  parent: Job;
  action: FollowUpAction;
  position: number;
  ctx?: Partial<FollowUpContext>;
  /** `request`: the KIE call the draft's spec becomes (KIE's bytes are unchanged by the port); `spec`: the port request itself. */
  expected: Pick<JobDraft, 'kind'> & { request?: KieTaskRequest } & Partial<JobDraft>;
}

const APIXO_UPSCALE = { ...finishedApixoUpscale() };

function finishedApixoUpscale(): Job {
  return storedJob(
    {
      id: 'aup',
      state: 'succeeded',
      taskId: 'aup-task',
      provider: 'apixo',
      spec: { action: 'upscale', source: { taskId: 'agrid-task', position: 2, resultKind: 'grid' } },
      results: images(1, 'aup'),
      promptText: 'a red fox',
      speed: 'fast',
      delivered: true,
    },
    'upscale',
  );
}

const APIXO_OK: Case[] = (['upscale_subtle', 'upscale_creative', 'vary_subtle', 'vary_strong'] as const).map((action) => ({
  name: `${action} on an APIXO upscale → the port's ${action} on that image, with the grid image it came from`,
  parent: APIXO_UPSCALE,
  action,
  position: 0,
  ctx: APIXO,
  expected: {
    kind: action.startsWith('upscale') ? 'upscale' : 'vary',
    provider: 'apixo',
    spec: {
      action,
      source: { taskId: 'aup-task', position: 0, resultKind: 'upscale', url: 'https://kie.example/aup/0.png', grid: { taskId: 'agrid-task', position: 2 } },
    },
  },
}));

const OK: Case[] = [
  ...APIXO_OK,
  ...[0, 1, 2, 3].map((p): Case => ({
    name: `U${p + 1} on a grid → generateUpscale imageIndex ${p} (0-based)`,
    parent: GRID,
    action: 'upscale',
    position: p,
    expected: { kind: 'upscale', request: { op: 'upscale', body: { taskId: 'grid-task', imageIndex: p } }, speed: 'fast' },
  })),
  ...[0, 1, 2, 3].map((p): Case => ({
    name: `V${p + 1} on a grid → generateVary imageIndex ${p + 1} (1-based)`,
    parent: GRID,
    action: 'vary',
    position: p,
    expected: { kind: 'vary', request: { op: 'vary', body: { taskId: 'grid-task', imageIndex: p + 1 } }, speed: 'fast' },
  })),
  {
    name: 'U4 on a variations grid → upscale of that grid’s own task',
    parent: VARY,
    action: 'upscale',
    position: 3,
    expected: { kind: 'upscale', request: { op: 'upscale', body: { taskId: 'vary-task', imageIndex: 3 } } },
  },
  {
    name: 'V1 on a variations grid → vary of that grid’s own task',
    parent: VARY,
    action: 'vary',
    position: 0,
    expected: { kind: 'vary', request: { op: 'vary', body: { taskId: 'vary-task', imageIndex: 1 } } },
  },
  {
    name: '🔄 on a grid → the same request again',
    parent: GRID,
    action: 'reroll',
    position: 0,
    expected: { kind: 'grid', request: GRID.request as KieTaskRequest, promptText: GRID.promptText, speed: 'fast', parent: { jobId: 'grid', position: 0, action: 'reroll' } },
  },
  {
    name: '🔄 on a failed grid → the same request again (retry)',
    parent: FAILED,
    action: 'reroll',
    position: 0,
    expected: { kind: 'grid', request: GRID.request as KieTaskRequest },
  },
  {
    name: '🔄 on a failed job ignores the position (there are no results)',
    parent: FAILED,
    action: 'reroll',
    position: 7,
    expected: { kind: 'grid', request: GRID.request as KieTaskRequest, parent: { jobId: 'failed', position: 0, action: 'reroll' } },
  },
  {
    name: 'Vary on U2 → generateVary of the grid’s task, imageIndex 2',
    parent: UPSCALE,
    action: 'vary_up',
    position: 0,
    expected: {
      kind: 'vary',
      request: { op: 'vary', body: { taskId: 'grid-task', imageIndex: 2 } },
      speed: 'fast',
      parent: { jobId: 'up', position: 1, action: 'vary_up' },
    },
  },
  {
    name: 'Animate (High motion) → mj_video of the upscale with the grid’s prompt',
    parent: UPSCALE,
    action: 'animate_high',
    position: 0,
    expected: {
      kind: 'video',
      request: {
        op: 'generate',
        body: { taskType: 'mj_video', prompt: 'a red fox', fileUrls: ['https://kie.example/up/0.png'], motion: 'high', videoBatchSize: 1 },
      },
      speed: null,
      parent: { jobId: 'up', position: 0, action: 'animate_high' },
    },
  },
  {
    name: 'Animate (Low motion) in an HD channel with batches of 4 → mj_video_hd, 4 clips',
    parent: UPSCALE,
    action: 'animate_low',
    position: 0,
    ctx: { video: { hd: true, batchSize: 4 } },
    expected: {
      kind: 'video_hd',
      request: {
        op: 'generate',
        body: { taskType: 'mj_video_hd', prompt: 'a red fox', fileUrls: ['https://kie.example/up/0.png'], motion: 'low', videoBatchSize: 4 },
      },
      speed: null,
    },
  },
  {
    name: 'Animate when the grid is gone → the default prompt',
    parent: UPSCALE,
    action: 'animate_high',
    position: 0,
    ctx: { grid: null },
    expected: {
      kind: 'video',
      request: {
        op: 'generate',
        body: { taskType: 'mj_video', prompt: DEFAULT_ANIMATE_PROMPT, fileUrls: ['https://kie.example/up/0.png'], motion: 'high', videoBatchSize: 1 },
      },
    },
  },
  {
    name: 'Extend 2 on a video → mj_video_extend_auto index 1',
    parent: VIDEO,
    action: 'extend_auto',
    position: 1,
    expected: {
      kind: 'extend',
      request: { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: 'video-task', index: 1 } },
      promptText: VIDEO.promptText,
      speed: null,
    },
  },
  {
    name: 'Extend 1 on an HD video',
    parent: VIDEO_HD,
    action: 'extend_auto',
    position: 0,
    expected: { kind: 'extend', request: { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: 'videohd-task', index: 0 } } },
  },
  {
    name: 'Extend 1 on an extension (extend again)',
    parent: EXTENSION,
    action: 'extend_auto',
    position: 0,
    expected: { kind: 'extend', request: { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: 'ext-task', index: 0 } } },
  },
  {
    name: 'Extend 1 ✏️ → mj_video_extend_manual with the typed prompt, trimmed',
    parent: VIDEO,
    action: 'extend_manual',
    position: 0,
    ctx: { prompt: '  the fox runs into the forest  ' },
    expected: {
      kind: 'extend',
      request: { op: 'extend', body: { taskType: 'mj_video_extend_manual', taskId: 'video-task', index: 0, prompt: 'the fox runs into the forest' } },
      promptText: 'the fox runs into the forest',
      speed: null,
      parent: { jobId: 'video', position: 0, action: 'extend_manual' },
    },
  },
  {
    name: 'Extend ✏️ accepts a prompt of exactly the limit',
    parent: VIDEO,
    action: 'extend_manual',
    position: 1,
    ctx: { prompt: 'x'.repeat(PROMPT_MAX_LENGTH) },
    expected: {
      kind: 'extend',
      request: { op: 'extend', body: { taskType: 'mj_video_extend_manual', taskId: 'video-task', index: 1, prompt: 'x'.repeat(PROMPT_MAX_LENGTH) } },
    },
  },
];

interface Refusal {
  name: string;
  parent: Job;
  action: FollowUpAction;
  position: number;
  ctx?: Partial<FollowUpContext>;
  message: RegExp;
}

const GRID_ONLY = /works on a 4-image grid/;
const UPSCALE_ONLY = /works on an upscaled image/;
const VIDEO_ONLY = /Extend works on a video/;
const NO_SUCH = (n: number) => new RegExp(`There is no result #${n}\\b`);

const REFUSED: Refusal[] = [
  // Buttons a provider lacks: KIE has no typed upscale or vary; APIXO no Animate and no KIE-style Vary on an upscale.
  { name: 'Upscale (Subtle) on a KIE upscale', parent: UPSCALE, action: 'upscale_subtle', position: 0, message: /not available/ },
  { name: 'Upscale (Creative) on a KIE upscale', parent: UPSCALE, action: 'upscale_creative', position: 0, message: /not available/ },
  { name: 'Vary (Subtle) on a KIE upscale', parent: UPSCALE, action: 'vary_subtle', position: 0, message: /not available/ },
  { name: 'Vary (Strong) on a KIE upscale', parent: UPSCALE, action: 'vary_strong', position: 0, message: /not available/ },
  { name: 'Animate on an APIXO upscale', parent: APIXO_UPSCALE, action: 'animate_high', position: 0, ctx: APIXO, message: /not available/ },
  { name: 'Vary (Subtle) on an APIXO grid', parent: { ...APIXO_UPSCALE, kind: 'grid' }, action: 'vary_subtle', position: 0, ctx: APIXO, message: UPSCALE_ONLY },
  // Wrong kind of result.
  { name: 'U1 on an upscale', parent: UPSCALE, action: 'upscale', position: 0, message: /^Upscale works on a 4-image grid/ },
  { name: 'V1 on an upscale', parent: UPSCALE, action: 'vary', position: 0, message: /^Vary works on a 4-image grid/ },
  { name: 'U1 on a video', parent: VIDEO, action: 'upscale', position: 0, message: GRID_ONLY },
  { name: 'V1 on an extension', parent: EXTENSION, action: 'vary', position: 0, message: GRID_ONLY },
  { name: 'Vary (upscale) on a grid', parent: GRID, action: 'vary_up', position: 0, message: UPSCALE_ONLY },
  { name: 'Vary (upscale) on a video', parent: VIDEO, action: 'vary_up', position: 0, message: UPSCALE_ONLY },
  { name: 'Animate on a grid', parent: GRID, action: 'animate_high', position: 0, message: UPSCALE_ONLY },
  { name: 'Animate on a variations grid', parent: VARY, action: 'animate_low', position: 0, message: UPSCALE_ONLY },
  { name: 'Animate on a video', parent: VIDEO, action: 'animate_low', position: 0, message: UPSCALE_ONLY },
  { name: 'Extend on a grid', parent: GRID, action: 'extend_auto', position: 0, message: VIDEO_ONLY },
  { name: 'Extend ✏️ on an upscale', parent: UPSCALE, action: 'extend_manual', position: 0, ctx: { prompt: 'go' }, message: VIDEO_ONLY },
  // Positions that don't exist.
  { name: 'U5 on a grid', parent: GRID, action: 'upscale', position: 4, message: NO_SUCH(5) },
  { name: 'V0 (position −1) on a grid', parent: GRID, action: 'vary', position: -1, message: NO_SUCH(0) },
  { name: 'a fractional position', parent: GRID, action: 'upscale', position: 1.5, message: /There is no result/ },
  { name: 'U3 on a grid KIE returned with two images', parent: { ...GRID, results: images(2, 'grid') }, action: 'upscale', position: 2, message: NO_SUCH(3) },
  { name: 'Extend 3 on a two-clip video', parent: VIDEO, action: 'extend_auto', position: 2, message: NO_SUCH(3) },
  { name: 'Extend ✏️ 2 on a one-clip video', parent: VIDEO_HD, action: 'extend_manual', position: 1, ctx: { prompt: 'go' }, message: NO_SUCH(2) },
  { name: 'Animate on position 1 of an upscale', parent: UPSCALE, action: 'animate_high', position: 1, message: NO_SUCH(2) },
  // Parents without a usable result.
  { name: 'U1 on a running grid', parent: RUNNING, action: 'upscale', position: 0, message: /not available/ },
  { name: 'V1 on a failed grid', parent: FAILED, action: 'vary', position: 0, message: /not available/ },
  { name: 'U1 on a grid without a taskId', parent: NO_TASK, action: 'upscale', position: 0, message: /not available/ },
  { name: '🔄 on a running grid', parent: RUNNING, action: 'reroll', position: 0, message: /still running/ },
  { name: '🔄 on a queued grid', parent: { ...RUNNING, state: 'queued' }, action: 'reroll', position: 0, message: /still running/ },
  // Manual extend without a usable prompt.
  { name: 'Extend ✏️ with no prompt', parent: VIDEO, action: 'extend_manual', position: 0, message: /how the video should continue/ },
  { name: 'Extend ✏️ with a blank prompt', parent: VIDEO, action: 'extend_manual', position: 0, ctx: { prompt: ' \n ' }, message: /how the video should continue/ },
  {
    name: 'Extend ✏️ with a prompt over the limit',
    parent: VIDEO,
    action: 'extend_manual',
    position: 0,
    ctx: { prompt: 'x'.repeat(PROMPT_MAX_LENGTH + 1) },
    message: new RegExp(`${PROMPT_MAX_LENGTH + 1} characters; the limit is ${PROMPT_MAX_LENGTH}`),
  },
];

describe('planFollowUp', () => {
  it.each(OK)('$name', ({ parent, action, position, ctx, expected }) => {
    const plan = planFollowUp(parent, action, position, { ...CTX, ...ctx });
    const { request, ...rest } = expected;
    expect(plan.ok ? plan.value : plan.message).toMatchObject(rest);
    if (!plan.ok) return;
    if (request) expect(toKieRequest(plan.value.spec)).toEqual(request);
    // A follow-up goes to its parent's provider.
    expect(plan.value.provider).toBe(parent.provider ?? 'kie');
    // Defaults every draft follows: inherits the prompt as typed unless it says otherwise, links its parent.
    expect(plan.value.parent?.jobId).toBe(parent.id);
    expect(plan.value.parent?.action).toBe(action);
    if (expected.promptText === undefined && action !== 'extend_manual') expect(plan.value.promptText).toBe(parent.promptText);
  });

  it.each(REFUSED)('refuses $name', ({ parent, action, position, ctx, message }) => {
    const plan = planFollowUp(parent, action, position, { ...CTX, ...ctx });
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.message).toMatch(message);
  });

  it('the tables cover every action, both ways', () => {
    for (const action of FOLLOW_UP_ACTIONS) {
      expect(OK.some((c) => c.action === action), `${action} accepted`).toBe(true);
      expect(REFUSED.some((c) => c.action === action), `${action} refused`).toBe(true);
    }
  });

  it('does not change the parent job', () => {
    const parent = structuredClone(UPSCALE);
    for (const action of FOLLOW_UP_ACTIONS) planFollowUp(parent, action, 0, { ...CTX, prompt: 'go' });
    expect(parent).toEqual(UPSCALE);
  });
});

describe('kiePromptOf / needsResult', () => {
  it('reads the prompt KIE saw: generate and manual extend carry one, upscale/vary/auto extend none', () => {
    expect(kiePromptOf(GRID)).toBe('a red fox');
    expect(kiePromptOf(VIDEO)).toBe('a red fox');
    expect(kiePromptOf(UPSCALE)).toBeNull();
    expect(kiePromptOf(VARY)).toBeNull();
    expect(kiePromptOf(EXTENSION)).toBeNull();
    const manual = { ...EXTENSION, request: { op: 'extend', body: { taskType: 'mj_video_extend_manual', taskId: 't', index: 0, prompt: 'onwards' } } } satisfies Job;
    expect(kiePromptOf(manual)).toBe('onwards');
  });

  it('only 🔄 works without a finished result', () => {
    expect(FOLLOW_UP_ACTIONS.filter((a) => !needsResult(a))).toEqual(['reroll']);
  });
});
