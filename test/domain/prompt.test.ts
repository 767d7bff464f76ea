import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_DEFAULTS,
  DEFAULT_ANIMATE_PROMPT,
  IMAGE_ONLY_PROMPTS,
  PromptError,
  buildVideoRequest,
  parseImagine,
  type AnimateInput,
  type ImagineInput,
  type ImagineOptions,
  type ParsedImagine,
} from '../../src/domain/prompt.js';
import { UserError } from '../../src/domain/errors.js';
import { GenerateRequestSchema, type GenerateRequest } from '../../src/providers/kie/schemas.js';
import { KieProvider, toKieRequest } from '../../src/providers/kie/adapter.js';
import type { CreateRequest } from '../../src/domain/provider.js';

/** The KIE body a port request becomes: the bytes KIE receives stay exactly what they were before the port. */
const kieBody = (r: CreateRequest): GenerateRequest => toKieRequest(r).body as GenerateRequest;

const MB = 1024 * 1024;
const A = 'https://img.example.com/a.png';
const B = 'https://img.example.com/b.jpg';
const S = 'https://img.example.com/style.png';
const O = 'https://img.example.com/subject.png';
const CDN = 'https://cdn.discordapp.com/attachments/1/2/upload.png?ex=1&is=2&hm=3&';

type Overrides = Partial<Omit<ImagineInput, 'prompt'>>;
const input = (prompt: string, extra: Overrides = {}): ImagineInput => ({
  prompt,
  options: {},
  defaults: {},
  maxAttachmentBytes: 10 * MB,
  ...extra,
});
const attach = (over: Partial<NonNullable<ImagineOptions['image']>> = {}): NonNullable<ImagineOptions['image']> => ({
  url: CDN,
  contentType: 'image/png',
  size: 1 * MB,
  name: 'upload.png',
  ...over,
});

function parsed(i: ImagineInput): ParsedImagine {
  const r = parseImagine(i);
  if (!r.ok) throw new Error(`expected success, got ${r.error.parameter}: ${r.error.message}`);
  return r.value;
}
function refused(i: ImagineInput): PromptError {
  const r = parseImagine(i);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value.request)}`);
  return r.error;
}

/** The request for plain text with nothing chosen. */
const TXT = { taskType: 'mj_txt2img', speed: 'fast', aspectRatio: '1:1', version: '7', stylization: 100 } as const;
const req = (over: Partial<GenerateRequest>): GenerateRequest => ({ ...TXT, ...over }) as GenerateRequest;
const long = (n: number): string => 'x'.repeat(n);

describe('parseImagine: inputs → the exact request', () => {
  const cases: Array<[string, ImagineInput, GenerateRequest]> = [
    ['plain text gets the built-in defaults', input('a cat'), req({ prompt: 'a cat' })],
    ['surrounding whitespace is trimmed', input('   a cat   '), req({ prompt: 'a cat' })],
    ['--ar', input('a cat --ar 16:9'), req({ prompt: 'a cat', aspectRatio: '16:9' })],
    ['--aspect long form', input('a cat --aspect 9:16'), req({ prompt: 'a cat', aspectRatio: '9:16' })],
    ['flags first, any case', input('--AR 2:1 --V 6.1 a cat'), req({ prompt: 'a cat', aspectRatio: '2:1', version: '6.1' })],
    ['flags in the middle', input('a cat --ar 3:2 in the sun'), req({ prompt: 'a cat in the sun', aspectRatio: '3:2' })],
    ['em-dash flags', input('a cat —ar 16:9 —s 250'), req({ prompt: 'a cat', aspectRatio: '16:9', stylization: 250 })],
    ['en-dash flags', input('a cat –v 6 –c 20'), req({ prompt: 'a cat', version: '6', variety: 20 })],
    ['em-dash then hyphen', input('a cat —-ar 4:3'), req({ prompt: 'a cat', aspectRatio: '4:3' })],
    ['lone dashes in prose stay text', input('sunset — calm sea -- quiet'), req({ prompt: 'sunset — calm sea -- quiet' })],
    [
      'trailing commas around flags and values',
      input('a cat, --ar 16:9, --s 250, --fast,'),
      req({ prompt: 'a cat', aspectRatio: '16:9', stylization: 250, speed: 'fast' }),
    ],
    ['--version long form', input('a cat --version 5.1'), req({ prompt: 'a cat', version: '5.1' })],
    ['--v 5.2', input('a cat --v 5.2'), req({ prompt: 'a cat', version: '5.2' })],
    ['--niji alone', input('a cat --niji'), req({ prompt: 'a cat', version: 'niji6' })],
    ['--niji 6', input('a cat --niji 6'), req({ prompt: 'a cat', version: 'niji6' })],
    ['--NIJI 6 then words', input('--NIJI 6 a cat'), req({ prompt: 'a cat', version: 'niji6' })],
    ['--niji does not eat a following word', input('--niji cute cat'), req({ prompt: 'cute cat', version: 'niji6' })],
    ['--relax', input('a cat --relax'), req({ prompt: 'a cat', speed: 'relaxed' })],
    ['--turbo', input('a cat --turbo'), req({ prompt: 'a cat', speed: 'turbo' })],
    ['--Fast', input('a cat --Fast'), req({ prompt: 'a cat', speed: 'fast' })],
    ['--stylize 0', input('a cat --stylize 0'), req({ prompt: 'a cat', stylization: 0 })],
    ['--s 1000 (max)', input('a cat --s 1000'), req({ prompt: 'a cat', stylization: 1000 })],
    ['--w 0', input('a cat --w 0'), req({ prompt: 'a cat', weirdness: 0 })],
    ['--weird 3000 (max)', input('a cat --weird 3000'), req({ prompt: 'a cat', weirdness: 3000 })],
    ['--c 0', input('a cat --c 0'), req({ prompt: 'a cat', variety: 0 })],
    ['--chaos 100 (max)', input('a cat --chaos 100'), req({ prompt: 'a cat', variety: 100 })],
    ['the same flag twice with the same value', input('a cat --ar 16:9 --ar 16:9'), req({ prompt: 'a cat', aspectRatio: '16:9' })],
    ['one leading image URL → img2img', input(`${A} a cat`), req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [A] })],
    [
      'several leading image URLs, with commas and <> brackets',
      input(`${A}, <${B}> a cat --ar 2:3`),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [A, B], aspectRatio: '2:3' }),
    ],
    [
      'leading URLs after leading flags',
      input(`--ar 1:2 ${A} a cat`),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [A], aspectRatio: '1:2' }),
    ],
    [
      'image only: KIE still gets prompt text',
      input(`${A} --ar 5:6`),
      req({ taskType: 'mj_img2img', prompt: IMAGE_ONLY_PROMPTS.mj_img2img, fileUrls: [A], aspectRatio: '5:6' }),
    ],
    ['a URL after text is just text', input(`a cat like ${A}`), req({ prompt: `a cat like ${A}` })],
    ['--sref', input(`a cat --sref ${S}`), req({ taskType: 'mj_style_reference', prompt: 'a cat', fileUrls: [S] })],
    [
      '--sref with several URLs, and --sref twice',
      input(`a cat --sref ${S} ${A} --ar 16:9 --sref <${B}>`),
      req({ taskType: 'mj_style_reference', prompt: 'a cat', fileUrls: [S, A, B], aspectRatio: '16:9' }),
    ],
    [
      '--sref only: a neutral prompt is sent',
      input(`--sref ${S}`),
      req({ taskType: 'mj_style_reference', prompt: IMAGE_ONLY_PROMPTS.mj_style_reference, fileUrls: [S] }),
    ],
    [
      '--sref works with niji',
      input(`a cat --sref ${S} --niji 6`),
      req({ taskType: 'mj_style_reference', prompt: 'a cat', fileUrls: [S], version: 'niji6' }),
    ],
    [
      '--oref: omni reference, no speed',
      input(`a cat --oref ${O}`),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [O], aspectRatio: '1:1', version: '7', stylization: 100 },
    ],
    [
      '--oref with --ow 1 (min)',
      input(`a cat --oref ${O} --ow 1`),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [O], aspectRatio: '1:1', version: '7', stylization: 100, ow: 1 },
    ],
    [
      '--oref with --ow 1000 (max)',
      input(`a cat --oref ${O} --ow 1000`),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [O], aspectRatio: '1:1', version: '7', stylization: 100, ow: 1000 },
    ],
    [
      'the same --oref twice',
      input(`a cat --oref ${O} --oref ${O}`),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [O], aspectRatio: '1:1', version: '7', stylization: 100 },
    ],
    [
      'omni ignores the channel speed',
      input(`a cat --oref ${O}`, { defaults: { speed: 'turbo' } }),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [O], aspectRatio: '1:1', version: '7', stylization: 100 },
    ],
    ['translate → enableTranslation', input('un chat', { options: { translate: true } }), req({ prompt: 'un chat', enableTranslation: true })],
    ['translate false is sent', input('a cat', { options: { translate: false } }), req({ prompt: 'a cat', enableTranslation: false })],
    [
      'every typed option',
      input('a cat', { options: { aspect: '3:4', version: 'NIJI6', speed: 'Relaxed', stylize: 10, weird: 20, variety: 30 } }),
      req({ prompt: 'a cat', aspectRatio: '3:4', version: 'niji6', speed: 'relaxed', stylization: 10, weirdness: 20, variety: 30 }),
    ],
    [
      'attachment as image prompt (the default mode)',
      input('a cat', { options: { image: attach() } }),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [CDN] }),
    ],
    [
      'attachment plus leading URLs: all image prompts',
      input(`${A} a cat`, { options: { image: attach(), imageMode: 'image_prompt' } }),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [A, CDN] }),
    ],
    [
      'attachment as style reference, plus --sref',
      input(`a cat --sref ${S}`, { options: { image: attach(), imageMode: 'style_reference' } }),
      req({ taskType: 'mj_style_reference', prompt: 'a cat', fileUrls: [S, CDN] }),
    ],
    [
      'attachment as omni reference with the omni_weight option',
      input('a cat', { options: { image: attach(), imageMode: 'omni_reference', omniWeight: 250 } }),
      { taskType: 'mj_omni_reference', prompt: 'a cat', fileUrls: [CDN], aspectRatio: '1:1', version: '7', stylization: 100, ow: 250 },
    ],
    [
      'attachment with no content type, judged by its name',
      input('a cat', { options: { image: attach({ contentType: null, name: 'photo.JPG' }) } }),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [CDN] }),
    ],
    [
      'attachment content type with parameters, and image/jpg',
      input('a cat', { options: { image: attach({ contentType: 'image/jpg; charset=binary' }) } }),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [CDN] }),
    ],
    [
      'attachment exactly at the size limit',
      input('a cat', { options: { image: attach({ size: 10 * MB, contentType: 'image/webp' }) } }),
      req({ taskType: 'mj_img2img', prompt: 'a cat', fileUrls: [CDN] }),
    ],
    ['2000 characters (the limit)', input(long(2000)), req({ prompt: long(2000) })],
    [
      'the limit is measured without flags and image URLs',
      input(`${A} ${long(2000)} --ar 16:9 --s 50`),
      req({ taskType: 'mj_img2img', prompt: long(2000), fileUrls: [A], aspectRatio: '16:9', stylization: 50 }),
    ],
  ];

  it.each(cases)('%s', (_name, i, expected) => {
    const value = parsed(i);
    expect(kieBody(value.request)).toEqual(expected);
    expect(value.text).toBe(expected.prompt);
    expect(value.speed).toBe(expected.speed ?? null);
    expect(GenerateRequestSchema.safeParse(kieBody(value.request)).success).toBe(true);
  });
});

describe('parseImagine: niji 7', () => {
  it('parses as niji7 (APIXO has it); KIE’s schema refuses it, naming the versions KIE offers', () => {
    const value = parsed(input('a cat --niji 7'));
    expect(value.request).toMatchObject({ kind: 'imagine', options: { version: 'niji7' } });
    const kie = GenerateRequestSchema.safeParse(kieBody(value.request));
    expect(kie.success).toBe(false);
    expect(kie.error?.issues[0]?.message).toBe('KIE offers versions 7, 6.1, 6, 5.2, 5.1, niji6');
  });
});

describe('parseImagine: precedence inline > option > channel > default', () => {
  const defaults = { version: '6.1', aspectRatio: '4:3', speed: 'relaxed', stylization: 50 } as const;
  const options: ImagineOptions = { version: '6', aspect: '3:2', speed: 'turbo', stylize: 200, weird: 5, variety: 6 };
  const inline = 'a cat --v 5.2 --ar 2:1 --fast --s 300 --w 7 --c 8';

  it('inline flags beat typed options and channel defaults', () => {
    const v = parsed(input(inline, { options, defaults }));
    expect(kieBody(v.request)).toEqual(
      req({ prompt: 'a cat', version: '5.2', aspectRatio: '2:1', speed: 'fast', stylization: 300, weirdness: 7, variety: 8 }),
    );
    expect(v.sources).toEqual({
      version: 'inline',
      aspectRatio: 'inline',
      speed: 'inline',
      stylization: 'inline',
      weirdness: 'inline',
      variety: 'inline',
    });
  });

  it('typed options beat channel defaults', () => {
    const v = parsed(input('a cat', { options, defaults }));
    expect(kieBody(v.request)).toEqual(
      req({ prompt: 'a cat', version: '6', aspectRatio: '3:2', speed: 'turbo', stylization: 200, weirdness: 5, variety: 6 }),
    );
    expect(v.speed).toBe('turbo');
    expect(v.sources).toEqual({
      version: 'option',
      aspectRatio: 'option',
      speed: 'option',
      stylization: 'option',
      weirdness: 'option',
      variety: 'option',
    });
  });

  it('channel defaults beat the built-in ones', () => {
    const v = parsed(input('a cat', { defaults }));
    expect(kieBody(v.request)).toEqual(req({ prompt: 'a cat', version: '6.1', aspectRatio: '4:3', speed: 'relaxed', stylization: 50 }));
    expect(v.sources).toEqual({ version: 'channel', aspectRatio: 'channel', speed: 'channel', stylization: 'channel' });
  });

  it('built-in defaults fill the rest; weird and variety are left to KIE', () => {
    const v = parsed(input('a cat'));
    expect(BUILT_IN_DEFAULTS).toEqual({ version: '7', aspectRatio: '1:1', speed: 'fast', stylization: 100 });
    expect(kieBody(v.request)).toEqual(req({ prompt: 'a cat' }));
    expect(v.sources).toEqual({ version: 'default', aspectRatio: 'default', speed: 'default', stylization: 'default' });
  });

  it('mixes sources per value', () => {
    const v = parsed(input('a cat --ar 16:9', { options: { speed: 'turbo' }, defaults: { version: '6' } }));
    expect(v.sources).toEqual({ aspectRatio: 'inline', speed: 'option', version: 'channel', stylization: 'default' });
    expect(kieBody(v.request)).toEqual(req({ prompt: 'a cat', aspectRatio: '16:9', speed: 'turbo', version: '6' }));
  });

  it('records translate and ow sources; inline --ow beats the option', () => {
    const v = parsed(input(`a cat --oref ${O} --ow 9`, { options: { omniWeight: 500, translate: true } }));
    expect(kieBody(v.request).ow).toBe(9);
    expect(v.sources).toMatchObject({ ow: 'inline', enableTranslation: 'option' });
    expect(v.sources.speed).toBeUndefined();
  });
});

const REFUSED = [
  'tile', 'seed', 'q', 'quality', 'no', 'stop', 'repeat', 'r', 'iw', 'cref', 'cw', 'style', 'p', 'personalize',
  'sw', 'sv', 'video', 'hd', 'draft', 'exp', 'raw', 'motion', 'loop', 'end', 'bs', 'uplight', 'upbeta', 'upanime',
  'test', 'testp', 'creative', 'sameseed',
];

describe('parseImagine: Midjourney flags KIE cannot honour are refused by name', () => {
  it.each(REFUSED)('--%s', (flag) => {
    const e = refused(input(`a cat --${flag} 2`));
    expect(e.parameter).toBe(`--${flag}`);
    expect(e.message).toContain(`--${flag} isn't available through the KIE API, so it can't be used here. Remove it and try again.`);
  });

  it('the exact message for --tile', () => {
    expect(refused(input('a pattern --tile')).message).toBe(
      "--tile isn't available through the KIE API, so it can't be used here. Remove it and try again.",
    );
  });

  it('in any case and with an em-dash, spelled canonically', () => {
    const e = refused(input('a cat —TILE'));
    expect(e.parameter).toBe('--tile');
  });

  it('names every refused flag at once', () => {
    const e = refused(input('a cat --tile --seed 4 --no red --tile'));
    expect(e.parameter).toBe('--tile');
    expect(e.message).toContain("--tile, --seed and --no aren't available through the KIE API, so they can't be used here. Remove them");
  });

  it('points to an alternative where there is one', () => {
    expect(refused(input('a cat --cref https://x.example/c.png')).message).toContain('--oref');
    expect(refused(input('a cat --motion low')).message).toContain('/animate');
  });

  it('an unknown flag is refused as unknown', () => {
    const e = refused(input('a cat --foo 3'));
    expect(e.parameter).toBe('--foo');
    expect(e.message).toContain("--foo isn't a parameter this bot knows");
    expect(e.message).toContain('--ar');
  });

  it('glued values are not guessed at', () => {
    expect(refused(input('a cat --ar16:9')).parameter).toBe('--ar16:9');
  });

  it('unavailable flags are reported before unknown ones', () => {
    expect(refused(input('a cat --foo --seed 3')).parameter).toBe('--seed');
  });
});

describe('parseImagine: errors name the parameter and what is allowed', () => {
  const cases: Array<[string, ImagineInput, string, string]> = [
    // missing values
    ['--ar at the end', input('a cat --ar'), '--ar', '--ar needs a value, e.g. --ar 16:9'],
    ['--ar followed by another flag', input('a cat --ar --v 7'), '--ar', 'needs a value'],
    ['--v at the end', input('a cat --v'), '--v', 'needs a value'],
    ['--s at the end', input('a cat --s,'), '--s', 'needs a value'],
    ['--sref at the end', input('a cat --sref'), '--sref', 'needs a value'],
    ['--oref at the end', input('a cat --oref'), '--oref', 'needs a value'],
    ['--ow at the end', input(`a cat --oref ${O} --ow`), '--ow', 'needs a value'],
    // enumerations
    [
      '--ar 7:3',
      input('a cat --ar 7:3'),
      '--ar',
      '--ar 7:3 is not supported; use one of 1:2, 9:16, 2:3, 3:4, 5:6, 6:5, 4:3, 3:2, 1:1, 16:9, 2:1',
    ],
    ['--ar 16x9 is not guessed', input('a cat --ar 16x9'), '--ar', '--ar 16x9 is not supported'],
    ['--aspect named as typed', input('a cat --aspect 7:3'), '--aspect', '--aspect 7:3 is not supported'],
    ['the aspect option', input('a cat', { options: { aspect: '7:3' } }), 'aspect', 'aspect 7:3 is not supported; use one of 1:2'],
    ['--v 8', input('a cat --v 8'), '--v', '--v 8 is not supported; use one of 7, 6.1, 6, 5.2, 5.1 (or --niji 6/7)'],
    ['--v niji6 is not --niji', input('a cat --v niji6'), '--v', 'is not supported'],
    ['--niji 5', input('a cat --niji 5'), '--niji', '--niji 5 is not supported; use --niji 6'],
    ['the version option', input('a cat', { options: { version: 'v8' } }), 'version', 'use one of 7, 6.1, 6, 5.2, 5.1, niji6'],
    ['the speed option', input('a cat', { options: { speed: 'warp' } }), 'speed', 'speed warp is not supported; use one of relaxed, fast, turbo'],
    // ranges
    ['--s 1001', input('a cat --s 1001'), '--s', '--s 1001 is not supported; use a whole number from 0 to 1000'],
    ['--stylize 2.5', input('a cat --stylize 2.5'), '--stylize', 'use a whole number from 0 to 1000'],
    ['--s -1', input('a cat --s -1'), '--s', '--s -1 is not supported'],
    ['--s abc', input('a cat --s abc'), '--s', '--s abc is not supported'],
    ['--w 3001', input('a cat --w 3001'), '--w', 'use a whole number from 0 to 3000'],
    ['--chaos 101', input('a cat --chaos 101'), '--chaos', 'use a whole number from 0 to 100'],
    ['--c 1e2', input('a cat --c 1e2'), '--c', 'use a whole number from 0 to 100'],
    ['--ow 0', input(`a cat --oref ${O} --ow 0`), '--ow', 'use a whole number from 1 to 1000'],
    ['--ow 1001', input(`a cat --oref ${O} --ow 1001`), '--ow', 'use a whole number from 1 to 1000'],
    ['the stylize option 1001', input('a cat', { options: { stylize: 1001 } }), 'stylize', 'stylize 1001 is not supported'],
    ['the weird option 3001', input('a cat', { options: { weird: 3001 } }), 'weird', 'from 0 to 3000'],
    ['the variety option 2.5', input('a cat', { options: { variety: 2.5 } }), 'variety', 'whole number from 0 to 100'],
    [
      'the omni_weight option 0',
      input('a cat', { options: { omniWeight: 0, image: attach(), imageMode: 'omni_reference' } }),
      'omni_weight',
      'from 1 to 1000',
    ],
    ['an invalid typed option is refused even when a flag overrides it', input('a cat --ar 1:1', { options: { aspect: '7:3' } }), 'aspect', 'not supported'],
    // conflicts between inline flags
    ['two different versions', input('a cat --v 6 --niji'), '--niji', '--v 6 and --niji both set the version; keep one'],
    ['--v twice', input('a cat --v 6 --version 7'), '--version', 'both set the version'],
    ['two speeds', input('a cat --fast --turbo'), '--turbo', '--fast and --turbo both set the speed'],
    ['--ar twice', input('a cat --ar 16:9 --ar 1:1'), '--ar', 'both set the aspect ratio'],
    ['two omni references', input(`a cat --oref ${O} --oref ${A}`), '--oref', 'both set the omni reference image'],
    // reference images KIE can't combine in one task
    ['image prompt + --sref', input(`${A} a cat --sref ${S}`), '--sref', "An image prompt (the URL at the start of the prompt) and a style reference (--sref) can't be combined"],
    ['--sref + --oref', input(`a cat --sref ${S} --oref ${O}`), '--oref', "A style reference (--sref) and an omni reference (--oref) can't be combined"],
    ['image prompt + --oref', input(`${A} a cat --oref ${O}`), '--oref', "can't be combined"],
    [
      'attachment as image prompt + --sref',
      input(`a cat --sref ${S}`, { options: { image: attach() } }),
      'image',
      'A style reference (--sref) and an image prompt (the image attachment)',
    ],
    [
      'the attachment conflict points to image_use',
      input(`a cat --oref ${O}`, { options: { image: attach() } }),
      'image',
      '(image_use sets how the attached image is used.)',
    ],
    [
      'attachment as omni reference + a different --oref',
      input(`a cat --oref ${O}`, { options: { image: attach(), imageMode: 'omni_reference' } }),
      'image',
      'Only one omni reference image can be used',
    ],
    ['--ow without an omni reference', input('a cat --ow 100'), '--ow', '--ow 100 only applies to an omni reference'],
    ['--ow with a style reference', input(`a cat --sref ${S} --ow 100`), '--ow', 'only applies to an omni reference'],
    ['the omni_weight option without an omni reference', input('a cat', { options: { omniWeight: 100, image: attach() } }), 'omni_weight', 'only applies to an omni reference'],
    ['a speed flag with an omni reference', input(`a cat --oref ${O} --turbo`), '--turbo', "KIE doesn't take a speed for omni references, so --turbo can't be honoured"],
    ['the speed option with an omni reference', input(`a cat --oref ${O}`, { options: { speed: 'fast' } }), 'speed', "so speed fast can't be honoured"],
    // versions the references need
    ['--oref with --v 6.1', input(`a cat --oref ${O} --v 6.1`), '--v', 'An omni reference only works with version 7, but --v 6.1 was given. Use --v 7.'],
    ['--oref with --niji', input(`a cat --oref ${O} --niji`), '--niji', 'only works with version 7'],
    ['--oref with the version option', input(`a cat --oref ${O}`, { options: { version: '6' } }), 'version', 'the version option is 6'],
    ['--oref with a channel default of 6.1', input(`a cat --oref ${O}`, { defaults: { version: '6.1' } }), 'version', "this channel's default version is 6.1. Use --v 7."],
    ['--sref with --v 5.2', input(`a cat --sref ${S} --v 5.2`), '--v', 'A style reference only works with version 7, 6.1, 6, niji6'],
    // URLs
    ['--sref with a style code', input('a cat --sref 1234'), '--sref', "--sref 1234: style codes aren't available through the KIE API"],
    ['--sref random', input('a cat --sref random'), '--sref', 'style codes'],
    ['--sref with ftp', input('a cat --sref ftp://x.example/s.png'), '--sref', 'needs an image URL starting with http:// or https://'],
    ['--sref with words', input('a cat --sref watercolor'), '--sref', 'needs an image URL'],
    ['--oref with a bare host', input('a cat --oref www.example.com/x.png'), '--oref', 'needs an image URL'],
    ['a leading ftp URL', input('ftp://x.example/a.png a cat'), 'prompt', 'must start with http:// or https://'],
    // the text
    ['an empty prompt', input(''), 'prompt', 'The prompt is empty'],
    ['only whitespace', input('   '), 'prompt', 'The prompt is empty'],
    ['only flags', input('--ar 16:9 --s 50'), 'prompt', 'The prompt is empty'],
    ['only commas and flags', input(', --ar 16:9 ,'), 'prompt', 'The prompt is empty'],
    ['2001 characters', input(long(2001)), 'prompt', 'The prompt is 2001 characters long'],
    ['2001 characters says by how much', input(`${long(2001)} --ar 16:9`), 'prompt', 'the limit is 2000. Shorten it by 1.'],
    // the attachment
    ['not an image', input('a cat', { options: { image: attach({ contentType: 'application/pdf', name: 'doc.pdf' }) } }), 'image', 'doc.pdf is not a PNG, JPEG, WebP or GIF image (it is application/pdf)'],
    ['an image type KIE does not take', input('a cat', { options: { image: attach({ contentType: 'image/svg+xml', name: 'a.svg' }) } }), 'image', 'is not a PNG, JPEG, WebP or GIF image'],
    ['no content type and no image extension', input('a cat', { options: { image: attach({ contentType: null, name: 'notes.txt' }) } }), 'image', 'notes.txt is not a PNG'],
    ['over the size limit by a byte', input('a cat', { options: { image: attach({ size: 10 * MB + 1 }) } }), 'image', 'upload.png is 10.1 MB; the limit is 10 MB'],
    ['well over the size limit', input('a cat', { maxAttachmentBytes: 8 * MB, options: { image: attach({ size: 25 * MB }) } }), 'image', 'is 25 MB; the limit is 8 MB'],
    ['an attachment URL that is not http(s)', input('a cat', { options: { image: attach({ url: 'file:///etc/passwd' }) } }), 'image', 'needs an image URL starting with http'],
    ['image_use without an image', input('a cat', { options: { imageMode: 'style_reference' } }), 'image_use', 'image_use needs an image'],
    ['an unknown image_use', input('a cat', { options: { image: attach(), imageMode: 'blend' as ImagineOptions['imageMode'] } }), 'image_use', 'use one of image_prompt, style_reference, omni_reference'],
  ];

  it.each(cases)('%s', (_name, i, parameter, message) => {
    const e = refused(i);
    expect(e).toBeInstanceOf(PromptError);
    expect(e.parameter).toBe(parameter);
    expect(e.message).toContain(message);
  });

  it('the safety net: a channel default stored out of range is refused by the provider before anything is sent', () => {
    const v = parsed(input('a cat', { defaults: { stylization: 5000 } }));
    const refusal = new KieProvider({} as never).check(v.request);
    expect(refusal?.category).toBe('bad_input');
    expect(refusal?.field).toBe('stylize');
  });

  it('PromptError is a UserError, so the router shows its message as-is', () => {
    const e = refused(input('a cat --tile'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.name).toBe('PromptError');
  });

  it('a leading image alone is fine, but flags alone are not', () => {
    expect(parsed(input(A)).text).toBe(IMAGE_ONLY_PROMPTS.mj_img2img);
    expect(parsed(input('--ar 1:1', { options: { image: attach(), imageMode: 'omni_reference' } })).text).toBe(
      IMAGE_ONLY_PROMPTS.mj_omni_reference,
    );
  });
});

describe('buildVideoRequest', () => {
  const video = (over: Partial<AnimateInput> = {}): AnimateInput => ({ imageUrl: A, ...over });
  const built = (i: AnimateInput): GenerateRequest => {
    const r = buildVideoRequest(i);
    if (!r.ok) throw new Error(`expected success, got ${r.error.parameter}: ${r.error.message}`);
    return kieBody(r.value);
  };
  const failed = (i: AnimateInput): PromptError => {
    const r = buildVideoRequest(i);
    if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
    return r.error;
  };
  const SD = { taskType: 'mj_video' as const, fileUrls: [A], motion: 'high' as const, videoBatchSize: 1 as const };

  const cases: Array<[string, AnimateInput, GenerateRequest]> = [
    ['defaults: SD, high motion, one clip, a default prompt', video(), { ...SD, prompt: DEFAULT_ANIMATE_PROMPT }],
    ['an empty prompt gets the default', video({ prompt: '   ' }), { ...SD, prompt: 'animate' }],
    ['a prompt', video({ prompt: ' waves crash ' }), { ...SD, prompt: 'waves crash' }],
    ['HD', video({ hd: true }), { ...SD, taskType: 'mj_video_hd', prompt: 'animate' }],
    ['hd false', video({ hd: false }), { ...SD, prompt: 'animate' }],
    ['low motion, batch 2', video({ motion: 'low', batch: 2 }), { ...SD, prompt: 'animate', motion: 'low', videoBatchSize: 2 }],
    ['batch 4', video({ batch: 4 }), { ...SD, prompt: 'animate', videoBatchSize: 4 }],
    [
      'inline --motion and --bs beat the options',
      video({ prompt: 'waves —motion low, --BS 4', motion: 'high', batch: 1 }),
      { ...SD, prompt: 'waves', motion: 'low', videoBatchSize: 4 },
    ],
    ['flags only: the default prompt', video({ prompt: '--motion low' }), { ...SD, prompt: 'animate', motion: 'low' }],
    ['an image URL in <>', video({ imageUrl: `<${B}>` }), { ...SD, fileUrls: [B], prompt: 'animate' }],
    ['a 2000-character prompt', video({ prompt: long(2000) }), { ...SD, prompt: long(2000) }],
  ];
  it.each(cases)('%s', (_name, i, expected) => {
    const r = built(i);
    expect(r).toEqual(expected);
    expect(r.speed).toBeUndefined();
    expect(GenerateRequestSchema.safeParse(r).success).toBe(true);
  });

  const errors: Array<[string, AnimateInput, string, string]> = [
    ['batch 3', video({ batch: 3 }), 'batch', 'batch 3 is not supported; use one of 1, 2, 4'],
    ['batch 0', video({ batch: 0 }), 'batch', 'use one of 1, 2, 4'],
    ['--bs 3', video({ prompt: 'waves --bs 3' }), '--bs', '--bs 3 is not supported'],
    ['--motion fast', video({ prompt: 'waves --motion fast' }), '--motion', '--motion fast is not supported; use one of high, low'],
    ['--motion at the end', video({ prompt: 'waves --motion' }), '--motion', 'needs a value'],
    ['two motions', video({ prompt: 'waves --motion low --motion high' }), '--motion', 'disagree'],
    ['a motion option KIE lacks', video({ motion: 'medium' as AnimateInput['motion'] }), 'motion', 'use one of high, low'],
    ['an image flag', video({ prompt: 'waves --ar 16:9' }), '--ar', "--ar isn't available through the KIE API for videos"],
    ['--hd points to the option', video({ prompt: 'waves --hd' }), '--hd', 'Use the hd option instead.'],
    ['an unknown flag', video({ prompt: 'waves --foo' }), '--foo', "isn't a parameter this bot knows for videos"],
    ['a non-http image', video({ imageUrl: 'ftp://x.example/a.png' }), 'image', 'needs an image URL starting with http'],
    ['not a URL', video({ imageUrl: 'a.png' }), 'image', 'needs an image URL'],
    ['2001 characters', video({ prompt: long(2001) }), 'prompt', 'The prompt is 2001 characters long'],
  ];
  it.each(errors)('refuses %s', (_name, i, parameter, message) => {
    const e = failed(i);
    expect(e.parameter).toBe(parameter);
    expect(e.message).toContain(message);
  });
});
