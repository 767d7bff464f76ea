/** The pure task views: record-info and callback shapes, paramJson echo, outcomes, parent checks. */
import { describe, expect, it } from 'vitest';
import { CallbackBodySchema, RecordInfoDataSchema } from '../../../src/providers/kie/schemas.js';
import {
  callbackBodyOf,
  DEFAULT_FAILURE,
  flagAt,
  GRID_PARENT_TYPES,
  kieTime,
  mergeOutcome,
  paramJsonOf,
  parentProblem,
  recordInfoData,
  resultUrlsOf,
  SUCCESS_OUTCOME,
} from '../../../src/providers/kie/simulator/tasks.js';
import type { SimTask } from '../../../src/providers/kie/simulator/types.js';

const BASE = 'http://sim.test';

const task = (patch: Partial<SimTask> = {}): SimTask => ({
  taskId: 'abc123abc123',
  taskType: 'mj_txt2img',
  speed: 'relaxed',
  op: 'generate',
  createdAt: 1_000,
  finishAt: 61_000,
  params: { taskType: 'mj_txt2img', prompt: 'p', speed: 'relaxed' },
  parentTaskId: null,
  parentPosition: null,
  resultCount: 4,
  outcome: { ...SUCCESS_OUTCOME },
  callbackUrl: null,
  callbacksSent: 0,
  callbackDelivered: false,
  price: 3,
  aspectRatio: '1:1',
  media: 'image',
  ...patch,
});

describe('task views', () => {
  it('flagAt is 0 before finishAt and the outcome from then on', () => {
    expect(flagAt(task(), 60_999)).toBe(0);
    expect(flagAt(task(), 61_000)).toBe(1);
    expect(flagAt(task({ outcome: { successFlag: 3, errorCode: null, errorMessage: null } }), 99_000)).toBe(3);
  });

  it('formats times like KIE, without milliseconds', () => {
    expect(kieTime(Date.UTC(2024, 2, 20, 10, 30, 0, 123))).toBe('2024-03-20T10:30:00Z');
  });

  it('echoes speed as Relax/Fast/Turbo and leaves other params alone', () => {
    expect(JSON.parse(paramJsonOf({ prompt: 'p', speed: 'relaxed', ow: 5 }))).toEqual({ prompt: 'p', speed: 'Relax', ow: 5 });
    expect(JSON.parse(paramJsonOf({ prompt: 'p' }))).toEqual({ prompt: 'p' });
  });

  it('names result files by task, index and media', () => {
    expect(resultUrlsOf(task({ resultCount: 2, media: 'video' }), BASE)).toEqual([
      `${BASE}/files/abc123abc123_0.mp4`,
      `${BASE}/files/abc123abc123_1.mp4`,
    ]);
  });

  it('record-info data parses with the contract schema, running and done', () => {
    const running = RecordInfoDataSchema.parse(recordInfoData(task(), 2_000, BASE));
    expect(running).toMatchObject({ successFlag: 0, resultUrls: [], completeTime: null, createTime: '1970-01-01T00:00:01Z' });
    const done = RecordInfoDataSchema.parse(recordInfoData(task(), 61_000, BASE));
    expect(done.resultUrls).toHaveLength(4);
    expect(done.params).toMatchObject({ speed: 'Relax' });
  });

  it('hides error fields until a failed task has finished', () => {
    const failed = task({ outcome: { successFlag: 2, errorCode: 501, errorMessage: 'x' } });
    expect(recordInfoData(failed, 2_000, BASE)).toMatchObject({ successFlag: 0, errorCode: null, errorMessage: null });
    expect(recordInfoData(failed, 61_000, BASE)).toMatchObject({ successFlag: 2, errorCode: 501, errorMessage: 'x', resultInfoJson: null });
  });

  it('callback bodies parse with the contract schema', () => {
    const ok = CallbackBodySchema.parse(callbackBodyOf(task(), BASE));
    expect(ok).toMatchObject({ code: 200, msg: 'success' });
    expect(ok.data.resultUrls).toHaveLength(4);
    const failed = callbackBodyOf(task({ outcome: { successFlag: 3, errorCode: null, errorMessage: null } }), BASE);
    expect(failed).toMatchObject({ code: 500, msg: 'Image generation failed', data: { resultUrls: [] } });
  });
});

describe('mergeOutcome', () => {
  it('fills default error fields when a success becomes a failure', () => {
    expect(mergeOutcome(SUCCESS_OUTCOME, { successFlag: 3 })).toEqual({
      successFlag: 3,
      errorCode: DEFAULT_FAILURE.errorCode,
      errorMessage: DEFAULT_FAILURE.messages[3],
    });
  });

  it('keeps explicit nulls and existing failure details', () => {
    expect(mergeOutcome(SUCCESS_OUTCOME, { successFlag: 2, errorCode: null, errorMessage: null })).toEqual({
      successFlag: 2,
      errorCode: null,
      errorMessage: null,
    });
    const failure = { successFlag: 2, errorCode: 42, errorMessage: 'kept' } as const;
    expect(mergeOutcome(failure, {})).toEqual(failure);
    expect(mergeOutcome(failure, { successFlag: 1 })).toEqual(SUCCESS_OUTCOME);
  });
});

describe('parentProblem', () => {
  it('checks type, then state', () => {
    expect(parentProblem(task({ taskType: 'mj_video' }), 99_000, GRID_PARENT_TYPES, 'upscale')).toContain('mj_video');
    expect(parentProblem(task(), 2_000, GRID_PARENT_TYPES, 'upscale')).toContain('still generating');
    expect(parentProblem(task({ outcome: { successFlag: 2, errorCode: null, errorMessage: null } }), 99_000, GRID_PARENT_TYPES, 'vary')).toContain(
      'did not finish successfully',
    );
    expect(parentProblem(task(), 99_000, GRID_PARENT_TYPES, 'upscale')).toBeNull();
  });
});
