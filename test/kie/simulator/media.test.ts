/**
 * Result files: real PNGs and MP4s with the right headers, padded and
 * oversized variants for size-cap tests, and 404 for anything not ready.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { KIE_PATHS } from '../../../src/providers/kie/schemas.js';
import { SIMULATED_MP4_BASE64 } from '../../../src/providers/kie/simulator/assets.js';
import { GLYPH_HEIGHT, GLYPH_WIDTH, GLYPHS, glyphInk } from '../../../src/providers/kie/simulator/font.js';
import { dimensionsFor, parseFileName, renderSimImage } from '../../../src/providers/kie/simulator/media.js';
import { crc32, encodePng, PNG_SIGNATURE } from '../../../src/providers/kie/simulator/png.js';
import { startHarness, TXT2IMG, VIDEO, type Harness } from './harness.js';

interface Chunk {
  type: string;
  data: Buffer;
}

/** Walk a PNG's chunks, checking the signature and every CRC. */
function pngChunks(png: Buffer): Chunk[] {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const chunks: Chunk[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length), `CRC of ${type}`).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

/** Check a PNG is complete and decodable; returns its size. */
function checkPng(png: Buffer): { width: number; height: number } {
  const chunks = pngChunks(png);
  expect(chunks[0]?.type).toBe('IHDR');
  expect(chunks.at(-1)?.type).toBe('IEND');
  const ihdr = chunks[0]!.data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  expect([ihdr[8], ihdr[9]]).toEqual([8, 2]); // 8-bit RGB
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe((width * 3 + 1) * height);
  return { width, height };
}

/** The boxes at the top level of an MP4. */
function mp4Boxes(mp4: Buffer): Array<{ type: string; size: number }> {
  const boxes = [];
  for (let at = 0; at < mp4.length; ) {
    const size = mp4.readUInt32BE(at);
    boxes.push({ type: mp4.toString('latin1', at + 4, at + 8), size });
    expect(size).toBeGreaterThanOrEqual(8);
    at += size;
  }
  return boxes;
}

async function download(h: Harness, path: string, init: RequestInit = {}) {
  const res = await fetch(h.sim.url + path, init);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function finishedTask(h: Harness, body: Record<string, unknown>): Promise<string> {
  const id = await h.create(KIE_PATHS.generate, body);
  h.sim.finish(id);
  return id;
}

describe('result images', () => {
  it('are valid PNGs with Content-Type and Content-Length, one per grid position', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, TXT2IMG);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { res, bytes } = await download(h, `/files/${id}_${i}.png`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(checkPng(bytes)).toEqual({ width: 256, height: 256 });
      expect(pngChunks(bytes).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
      seen.add(bytes.toString('base64'));
    }
    expect(seen.size).toBe(4);
  });

  it('follow the aspect ratio, and upscales are larger', async () => {
    const h = await startHarness();
    const wide = await finishedTask(h, { ...TXT2IMG, aspectRatio: '16:9' });
    const tall = await finishedTask(h, { ...TXT2IMG, aspectRatio: '9:16' });
    expect(checkPng((await download(h, `/files/${wide}_0.png`)).bytes)).toEqual({ width: 256, height: 144 });
    expect(checkPng((await download(h, `/files/${tall}_0.png`)).bytes)).toEqual({ width: 144, height: 256 });
    const up = await h.create(KIE_PATHS.upscale, { taskId: wide, imageIndex: 1 });
    h.sim.finish(up);
    expect(checkPng((await download(h, `/files/${up}_0.png`)).bytes)).toEqual({ width: 512, height: 288 });
  });

  it('are the same bytes every time they are fetched', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, TXT2IMG);
    const a = await download(h, `/files/${id}_2.png`);
    const b = await download(h, `/files/${id}_2.png`);
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });

  it('need no key; the request log says no key was sent', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, TXT2IMG);
    h.sim.clearRequests();
    expect((await download(h, `/files/${id}_0.png`)).res.status).toBe(200);
    expect(h.sim.requests).toEqual([
      expect.objectContaining({ method: 'GET', endpoint: 'file', authorized: false, responseCode: 200, taskId: id }),
    ]);
  });
});

describe('result videos', () => {
  it('are a small valid MP4 served as video/mp4', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, { ...VIDEO, videoBatchSize: 2 });
    for (const i of [0, 1]) {
      const { res, bytes } = await download(h, `/files/${id}_${i}.mp4`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('video/mp4');
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');
      expect(mp4Boxes(bytes).map((b) => b.type)).toEqual(expect.arrayContaining(['ftyp', 'moov', 'mdat']));
      expect(bytes.length).toBeLessThanOrEqual(30 * 1024);
      expect(bytes.equals(Buffer.from(SIMULATED_MP4_BASE64, 'base64'))).toBe(true);
    }
  });
});

describe('files that are not there', () => {
  it.each([
    ['an unknown task', (id: string) => `/files/${'0'.repeat(32)}_0.png`, false],
    ['a task still generating', (id: string) => `/files/${id}_0.png`, false],
    ['an index past the results', (id: string) => `/files/${id}_4.png`, true],
    ['the wrong extension', (id: string) => `/files/${id}_0.mp4`, true],
    ['a name the simulator never gives', () => '/files/result.jpeg', true],
  ])('answer 404 for %s', async (_name, pathOf, finished) => {
    const h = await startHarness();
    const id = await h.create(KIE_PATHS.generate, TXT2IMG);
    if (finished) h.sim.finish(id);
    const { res } = await download(h, pathOf(id));
    expect(res.status).toBe(404);
    expect(h.sim.requests.at(-1)).toMatchObject({ endpoint: 'file', responseCode: 404 });
  });

  it('answer 404 for a failed task', async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'taskFailure', successFlag: 2 });
    const id = await finishedTask(h, TXT2IMG);
    expect((await download(h, `/files/${id}_0.png`)).res.status).toBe(404);
  });
});

describe('sized files for size-cap tests', () => {
  it('?size= pads a PNG to exactly that many bytes and keeps it valid', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, TXT2IMG);
    const { res, bytes } = await download(h, `/files/${id}_0.png?size=200000`);
    expect(Number(res.headers.get('content-length'))).toBe(200_000);
    expect(bytes.length).toBe(200_000);
    checkPng(bytes);
    expect(pngChunks(bytes).map((c) => c.type)).toContain('siMu');
  });

  it('?size= pads an MP4 with a trailing free box', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, VIDEO);
    const { bytes } = await download(h, `/files/${id}_0.mp4?size=50000`);
    expect(bytes.length).toBe(50_000);
    expect(mp4Boxes(bytes).at(-1)).toEqual({ type: 'free', size: 50_000 - Buffer.from(SIMULATED_MP4_BASE64, 'base64').length });
  });

  it('ignores a size below the natural one', async () => {
    const h = await startHarness();
    const id = await finishedTask(h, TXT2IMG);
    const natural = (await download(h, `/files/${id}_0.png`)).bytes;
    expect((await download(h, `/files/${id}_0.png?size=10`)).bytes.equals(natural)).toBe(true);
  });

  it('big_<n>.png / big_<n>.mp4 stream a valid file of exactly n bytes', async () => {
    const h = await startHarness();
    const png = await download(h, '/files/big_12000000.png');
    expect(png.res.status).toBe(200);
    expect(png.bytes.length).toBe(12_000_000);
    checkPng(png.bytes);
    const mp4 = await download(h, '/files/big_11000000.mp4');
    expect(mp4.res.headers.get('content-type')).toBe('video/mp4');
    expect(mp4.bytes.length).toBe(11_000_000);
    expect(mp4Boxes(mp4.bytes)[0]?.type).toBe('ftyp');
  });

  it('HEAD gives the headers only', async () => {
    const h = await startHarness();
    const { res, bytes } = await download(h, '/files/big_5000000.png', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('5000000');
    expect(bytes.length).toBe(0);
  });

  it('?chunked=1 leaves out Content-Length', async () => {
    const h = await startHarness();
    const { res, bytes } = await download(h, '/files/big_300000.png?chunked=1');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(bytes.length).toBe(300_000);
  });
});

describe('media helpers', () => {
  it('parses only the names the simulator hands out', () => {
    expect(parseFileName('0123abcd0123abcd_3.png')).toEqual({ kind: 'result', taskId: '0123abcd0123abcd', index: 3, ext: 'png' });
    expect(parseFileName('big_10.mp4')).toEqual({ kind: 'big', bytes: 10, ext: 'mp4' });
    expect(parseFileName('../etc/passwd')).toBeNull();
    expect(parseFileName('0123abcd0123abcd_3.jpeg')).toBeNull();
  });

  it('sizes images by aspect ratio', () => {
    expect(dimensionsFor('1:1', 256)).toEqual({ width: 256, height: 256 });
    expect(dimensionsFor('2:1', 256)).toEqual({ width: 256, height: 128 });
    expect(dimensionsFor('1:2', 256)).toEqual({ width: 128, height: 256 });
    expect(dimensionsFor('nonsense', 100)).toEqual({ width: 100, height: 100 });
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('56789'), crc32(Buffer.from('1234')))).toBe(0xcbf43926);
  });

  it('encodes what it is given', () => {
    const png = encodePng({ width: 2, height: 1, rgb: Uint8Array.from([255, 0, 0, 0, 0, 255]) });
    const raw = inflateSync(Buffer.concat(pngChunks(png).filter((c) => c.type === 'IDAT').map((c) => c.data)));
    expect([...raw]).toEqual([0, 255, 0, 0, 0, 0, 255]);
    expect(() => encodePng({ width: 2, height: 2, rgb: new Uint8Array(3) })).toThrow(RangeError);
  });

  it('has a well-formed glyph for every character it stamps', () => {
    for (const [ch, glyph] of Object.entries(GLYPHS)) {
      const rows = glyph.split('|');
      expect(rows, ch).toHaveLength(GLYPH_HEIGHT);
      for (const row of rows) expect(row, ch).toMatch(new RegExp(`^[.#]{${GLYPH_WIDTH}}$`));
    }
    for (const ch of 'SIMULATED#0123456789UV-') {
      const ink = Array.from({ length: GLYPH_HEIGHT * GLYPH_WIDTH }, (_, k) => glyphInk(ch, k % GLYPH_WIDTH, Math.floor(k / GLYPH_WIDTH)));
      expect(ink.some(Boolean), ch).toBe(true);
    }
  });

  it('stamps white text on the gradient', () => {
    const image = renderSimImage({ width: 64, height: 64, colourSeed: 5, lines: ['SIMULATED'] });
    const white = [];
    for (let i = 0; i < image.rgb.length; i += 3) if (image.rgb[i] === 255 && image.rgb[i + 1] === 255 && image.rgb[i + 2] === 255) white.push(i);
    expect(white.length).toBeGreaterThan(50);
  });
});
