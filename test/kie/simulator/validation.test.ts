/**
 * The simulator answers bad requests the way KIE does (HTTP 200, body code
 * 422 naming the field), one row per rule of the request schemas.
 */
import { describe, expect, it } from 'vitest';
import { KIE_PATHS } from '../../../src/providers/kie/schemas.js';
import { startHarness, TXT2IMG } from './harness.js';

const IMG = 'https://example.com/in.png';

const GOOD: Array<[string, Record<string, unknown>]> = [
  ['txt2img, minimal', { taskType: 'mj_txt2img', prompt: 'p' }],
  [
    'txt2img, every grid option',
    {
      taskType: 'mj_txt2img',
      prompt: 'p',
      speed: 'turbo',
      aspectRatio: '2:1',
      version: 'niji6',
      variety: 100,
      stylization: 1000,
      weirdness: 3000,
      waterMark: 'wm',
      enableTranslation: true,
      callBackUrl: 'https://example.com/cb',
    },
  ],
  ['img2img with fileUrl', { taskType: 'mj_img2img', prompt: 'p', fileUrl: IMG, speed: 'relaxed' }],
  ['img2img with two fileUrls', { taskType: 'mj_img2img', prompt: 'p', fileUrls: [IMG, IMG] }],
  ['style reference', { taskType: 'mj_style_reference', prompt: 'p', fileUrls: [IMG] }],
  ['omni reference with ow, no speed', { taskType: 'mj_omni_reference', prompt: 'p', fileUrls: [IMG], ow: 1000 }],
  ['video, batch 4', { taskType: 'mj_video', prompt: 'p', fileUrl: IMG, motion: 'high', videoBatchSize: 4 }],
  ['video hd, one fileUrls entry, low motion', { taskType: 'mj_video_hd', prompt: 'p', fileUrls: [IMG], motion: 'low' }],
  ['ranges at their minimum', { taskType: 'mj_txt2img', prompt: 'p', variety: 0, stylization: 0, weirdness: 0 }],
];

/** [case, body, field the msg must name] */
const BAD: Array<[string, unknown, string]> = [
  ['no taskType', { prompt: 'p' }, 'taskType'],
  ['unknown taskType', { taskType: 'mj_inpaint', prompt: 'p' }, 'taskType'],
  ['no prompt', { taskType: 'mj_txt2img' }, 'prompt'],
  ['empty prompt', { taskType: 'mj_txt2img', prompt: '' }, 'prompt'],
  ['prompt over 2000 chars', { taskType: 'mj_txt2img', prompt: 'x'.repeat(2001) }, 'prompt'],
  ['speed spelled like the echo', { taskType: 'mj_txt2img', prompt: 'p', speed: 'Relax' }, 'speed'],
  ['txt2img with an image', { taskType: 'mj_txt2img', prompt: 'p', fileUrl: IMG }, 'fileUrls'],
  ['img2img without an image', { taskType: 'mj_img2img', prompt: 'p' }, 'fileUrls'],
  ['style reference without an image', { taskType: 'mj_style_reference', prompt: 'p' }, 'fileUrls'],
  ['omni reference without an image', { taskType: 'mj_omni_reference', prompt: 'p' }, 'fileUrls'],
  ['video without an image', { taskType: 'mj_video', prompt: 'p', motion: 'high' }, 'fileUrls'],
  ['video with two images', { taskType: 'mj_video', prompt: 'p', fileUrls: [IMG, IMG], motion: 'high' }, 'fileUrls'],
  ['fileUrl and fileUrls together', { taskType: 'mj_img2img', prompt: 'p', fileUrl: IMG, fileUrls: [IMG] }, 'fileUrl'],
  ['empty fileUrls', { taskType: 'mj_img2img', prompt: 'p', fileUrls: [] }, 'fileUrls'],
  ['fileUrls not URLs', { taskType: 'mj_img2img', prompt: 'p', fileUrls: ['not a url'] }, 'fileUrls'],
  ['video with speed', { taskType: 'mj_video', prompt: 'p', fileUrl: IMG, motion: 'high', speed: 'fast' }, 'speed'],
  ['video hd with speed', { taskType: 'mj_video_hd', prompt: 'p', fileUrl: IMG, motion: 'high', speed: 'fast' }, 'speed'],
  ['omni reference with speed', { taskType: 'mj_omni_reference', prompt: 'p', fileUrls: [IMG], speed: 'turbo' }, 'speed'],
  ['video without motion', { taskType: 'mj_video', prompt: 'p', fileUrl: IMG }, 'motion'],
  ['video hd without motion', { taskType: 'mj_video_hd', prompt: 'p', fileUrl: IMG }, 'motion'],
  ['unknown motion', { taskType: 'mj_video', prompt: 'p', fileUrl: IMG, motion: 'medium' }, 'motion'],
  ['grid with motion', { taskType: 'mj_txt2img', prompt: 'p', motion: 'low' }, 'motion'],
  ['grid with videoBatchSize', { taskType: 'mj_txt2img', prompt: 'p', videoBatchSize: 2 }, 'videoBatchSize'],
  ['videoBatchSize 3', { taskType: 'mj_video', prompt: 'p', fileUrl: IMG, motion: 'high', videoBatchSize: 3 }, 'videoBatchSize'],
  ['ow outside omni reference', { taskType: 'mj_img2img', prompt: 'p', fileUrl: IMG, ow: 10 }, 'ow'],
  ['ow 0', { taskType: 'mj_omni_reference', prompt: 'p', fileUrls: [IMG], ow: 0 }, 'ow'],
  ['ow over 1000', { taskType: 'mj_omni_reference', prompt: 'p', fileUrls: [IMG], ow: 1001 }, 'ow'],
  ['variety over 100', { taskType: 'mj_txt2img', prompt: 'p', variety: 101 }, 'variety'],
  ['variety not an integer', { taskType: 'mj_txt2img', prompt: 'p', variety: 2.5 }, 'variety'],
  ['stylization over 1000', { taskType: 'mj_txt2img', prompt: 'p', stylization: 1001 }, 'stylization'],
  ['weirdness over 3000', { taskType: 'mj_txt2img', prompt: 'p', weirdness: 3001 }, 'weirdness'],
  ['negative weirdness', { taskType: 'mj_txt2img', prompt: 'p', weirdness: -1 }, 'weirdness'],
  ['unknown aspect ratio', { taskType: 'mj_txt2img', prompt: 'p', aspectRatio: '7:3' }, 'aspectRatio'],
  ['unknown version', { taskType: 'mj_txt2img', prompt: 'p', version: '8' }, 'version'],
  ['enableTranslation as a string', { taskType: 'mj_txt2img', prompt: 'p', enableTranslation: 'yes' }, 'enableTranslation'],
  ['callBackUrl not a URL', { taskType: 'mj_txt2img', prompt: 'p', callBackUrl: 'callback' }, 'callBackUrl'],
  ['unknown field', { taskType: 'mj_txt2img', prompt: 'p', model: 'midjourney' }, 'model'],
];

describe('POST /api/v1/mj/generate validation', () => {
  it.each(GOOD)('accepts %s', async (_name, body) => {
    const h = await startHarness();
    const r = await h.post(KIE_PATHS.generate, body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 200, msg: 'success' });
    expect(h.sim.tasks.size).toBe(1);
  });

  it.each(BAD)('rejects %s with 422 naming %s', async (_name, body, field) => {
    const h = await startHarness();
    const r = await h.post(KIE_PATHS.generate, body);
    expect(r.status).toBe(200);
    expect(r.body?.code).toBe(422);
    expect(r.body?.msg).toContain(field);
    expect(h.sim.tasks.size).toBe(0);
    expect(h.sim.credits()).toBe(10_000);
  });

  it('answers a body that is not an object with 422', async () => {
    const h = await startHarness();
    expect((await h.post(KIE_PATHS.generate, [TXT2IMG])).body?.code).toBe(422);
  });

  it('answers invalid JSON with 400', async () => {
    const h = await startHarness();
    const r = await h.call('POST', KIE_PATHS.generate, { raw: '{"taskType": ' });
    expect(r.status).toBe(200);
    expect(r.body?.code).toBe(400);
    expect(h.sim.requests[0]?.body).toBe('{"taskType": ');
  });

  it('answers an empty body with 400', async () => {
    const h = await startHarness();
    expect((await h.call('POST', KIE_PATHS.generate, { raw: '' })).body?.code).toBe(400);
  });
});

describe('upscale / vary / extend validation', () => {
  const BAD_CHILD: Array<[string, string, Record<string, unknown>, string]> = [
    ['upscale imageIndex 4', KIE_PATHS.upscale, { imageIndex: 4 }, 'imageIndex'],
    ['upscale imageIndex -1', KIE_PATHS.upscale, { imageIndex: -1 }, 'imageIndex'],
    ['upscale without imageIndex', KIE_PATHS.upscale, {}, 'imageIndex'],
    ['vary imageIndex 0', KIE_PATHS.vary, { imageIndex: 0 }, 'imageIndex'],
    ['vary imageIndex 5', KIE_PATHS.vary, { imageIndex: 5 }, 'imageIndex'],
    ['upscale with an unknown field', KIE_PATHS.upscale, { imageIndex: 0, index: 0 }, 'index'],
    ['extend manual without prompt', KIE_PATHS.extend, { taskType: 'mj_video_extend_manual', index: 0 }, 'prompt'],
    ['extend with an unknown taskType', KIE_PATHS.extend, { taskType: 'mj_video_extend', index: 0 }, 'taskType'],
    ['extend with a negative index', KIE_PATHS.extend, { taskType: 'mj_video_extend_auto', index: -1 }, 'index'],
  ];

  it.each(BAD_CHILD)('rejects %s', async (_name, path, extra, field) => {
    const h = await startHarness();
    const r = await h.post(path, { taskId: '0123456789abcdef0123456789abcdef', ...extra });
    expect(r.body?.code).toBe(422);
    expect(r.body?.msg).toContain(field);
  });

  it('rejects a missing taskId', async () => {
    const h = await startHarness();
    const r = await h.post(KIE_PATHS.upscale, { imageIndex: 0 });
    expect(r.body?.code).toBe(422);
    expect(r.body?.msg).toContain('taskId');
  });
});
