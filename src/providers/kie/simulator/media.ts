/**
 * The result files the simulator serves: PNGs drawn on the fly (a seeded
 * colour gradient per task and image, stamped "SIMULATED" and the image
 * number so nobody mistakes them for real output) and one embedded MP4.
 *
 * File names:
 *   /files/<taskId>_<i>.png|.mp4   result i (0-based) of a task
 *   /files/big_<n>.png|.mp4        a valid file of exactly n bytes (for size-cap tests)
 *   ?size=<n> on either            pads the file to n bytes, still valid: a private
 *                                  PNG chunk ('siMu') before IEND / an MP4 'free' box
 *                                  at the end. Ignored if n is below the natural size
 *                                  plus the 12 (PNG) / 8 (MP4) bytes of the wrapper.
 *                                  Capped at MAX_FILE_BYTES.
 *   ?chunked=1                     omit Content-Length (chunked transfer), for
 *                                  clients that must enforce a cap while streaming
 *
 * Result files need no key, 404 unless the task exists, succeeded and has that
 * index (and the extension matches: .png for images, .mp4 for videos).
 */
import { simulatedMp4 } from './assets.js';
import { GLYPH_HEIGHT, glyphInk, textWidth } from './font.js';
import { crc32, encodePng, type RgbImage } from './png.js';
import { createRng, hashString } from './random.js';

export type FileExt = 'png' | 'mp4';

export const CONTENT_TYPES: Readonly<Record<FileExt, string>> = Object.freeze({ png: 'image/png', mp4: 'video/mp4' });

/** Largest file the simulator will stream (padding is generated, but keep tests sane). */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;

export type FileRequest =
  | { kind: 'result'; taskId: string; index: number; ext: FileExt }
  | { kind: 'big'; bytes: number; ext: FileExt };

/** Parse the part of a /files/ URL after the slash; null when it names nothing the simulator serves. */
export function parseFileName(name: string): FileRequest | null {
  const big = /^big_(\d{1,10})\.(png|mp4)$/.exec(name);
  if (big) return { kind: 'big', bytes: Number(big[1]), ext: big[2] as FileExt };
  const result = /^([0-9a-f]{8,64})_(\d{1,3})\.(png|mp4)$/.exec(name);
  if (result) return { kind: 'result', taskId: result[1]!, index: Number(result[2]), ext: result[3] as FileExt };
  return null;
}

export const resultFileName = (taskId: string, index: number, media: 'image' | 'video'): string =>
  `${taskId}_${index}.${media === 'video' ? 'mp4' : 'png'}`;

// ---------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------

/** Pixel size for an aspect ratio such as "16:9", with the long side `longSide`. */
export function dimensionsFor(aspectRatio: string, longSide: number): { width: number; height: number } {
  const m = /^(\d+):(\d+)$/.exec(aspectRatio);
  const w = m ? Number(m[1]) : 1;
  const h = m ? Number(m[2]) : 1;
  if (!(w > 0 && h > 0)) return { width: longSide, height: longSide };
  return w >= h
    ? { width: longSide, height: Math.max(1, Math.round((longSide * h) / w)) }
    : { width: Math.max(1, Math.round((longSide * w) / h)), height: longSide };
}

function hsvToRgb(hue: number, s: number, v: number): [number, number, number] {
  const h = ((hue % 360) + 360) % 360;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export interface SimImageSpec {
  width: number;
  height: number;
  /** Picks the gradient's colours. */
  colourSeed: number;
  /** Text lines, centred; the first is normally "SIMULATED". */
  lines: readonly string[];
}

/** Draw a gradient with a darkened band of white, shadowed text in the middle. */
export function renderSimImage(spec: SimImageSpec): RgbImage {
  const { width, height } = spec;
  const rgb = new Uint8Array(width * height * 3);
  const rng = createRng(spec.colourSeed);
  const hue = rng() * 360;
  const from = hsvToRgb(hue, 0.6, 0.9);
  const to = hsvToRgb(hue + 60 + rng() * 120, 0.7, 0.55);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t);
    }
  }

  const scales = spec.lines.map((line) =>
    Math.max(1, Math.min(Math.floor((width * 0.85) / Math.max(1, textWidth(line))), Math.floor((height * 0.25) / GLYPH_HEIGHT))),
  );
  const gap = Math.max(2, Math.round(height * 0.04));
  const blockHeight = scales.reduce((sum, s) => sum + s * GLYPH_HEIGHT, 0) + gap * Math.max(0, spec.lines.length - 1);
  const top = Math.max(0, Math.round((height - blockHeight) / 2));

  // Darken a band behind the text so it reads on any gradient.
  const bandTop = Math.max(0, top - gap);
  const bandBottom = Math.min(height, top + blockHeight + gap);
  for (let y = bandTop; y < bandBottom; y++) {
    for (let i = y * width * 3; i < (y + 1) * width * 3; i++) rgb[i] = Math.round(rgb[i]! * 0.35);
  }

  const fill = (x0: number, y0: number, size: number, value: number): void => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + size); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + size); x++) rgb.fill(value, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  };
  let lineTop = top;
  spec.lines.forEach((line, i) => {
    const scale = scales[i]!;
    const left = Math.round((width - textWidth(line) * scale) / 2);
    const shadow = Math.max(1, Math.round(scale / 3));
    for (const [offset, value] of [[shadow, 0], [0, 255]] as const) {
      [...line].forEach((ch, k) => {
        for (let row = 0; row < GLYPH_HEIGHT; row++) {
          for (let col = 0; col < 5; col++) {
            if (glyphInk(ch, col, row)) fill(left + (k * 6 + col) * scale + offset, lineTop + row * scale + offset, scale, value);
          }
        }
      });
    }
    lineTop += scale * GLYPH_HEIGHT + gap;
  });
  return { width, height, rgb };
}

/** What a result image shows, derived from the task so a wrong upscale/vary is visible at a glance. */
export interface TaskImageInput {
  taskId: string;
  op: 'generate' | 'upscale' | 'vary' | 'extend';
  parentTaskId: string | null;
  parentPosition: number | null;
  aspectRatio: string;
}

/** Grid images are 256 px on the long side; upscales 512. */
export function taskImagePng(task: TaskImageInput, index: number): Buffer {
  const upscaled = task.op === 'upscale' && task.parentTaskId !== null && task.parentPosition !== null;
  // An upscale keeps the colours of the grid image it enlarges.
  const colourKey = upscaled ? `${task.parentTaskId}:${task.parentPosition}` : `${task.taskId}:${index}`;
  const label = upscaled
    ? `U${task.parentPosition! + 1}`
    : task.op === 'vary' && task.parentPosition !== null
      ? `V${task.parentPosition + 1}-${index + 1}`
      : `#${index + 1}`;
  const { width, height } = dimensionsFor(task.aspectRatio, upscaled ? 512 : 256);
  return encodePng(renderSimImage({ width, height, colourSeed: hashString(colourKey), lines: ['SIMULATED', label] }));
}

/** A small stand-in image for `big_<n>.png`. */
export const placeholderPng = (): Buffer =>
  encodePng(renderSimImage({ width: 64, height: 64, colourSeed: 1, lines: ['SIM'] }));

export const placeholderMp4 = (): Buffer => simulatedMp4();

// ---------------------------------------------------------------------------
// Padding to an exact size, streamed
// ---------------------------------------------------------------------------

export interface FileBody {
  contentType: string;
  size: number;
  /** The bytes, in chunks, generated lazily so a 100 MB file costs no 100 MB buffer. */
  chunks: () => Generator<Buffer>;
}

const PAD_CHUNK = 64 * 1024;

function* zeros(count: number, onChunk?: (b: Buffer) => void): Generator<Buffer> {
  const block = Buffer.alloc(Math.min(PAD_CHUNK, count));
  for (let left = count; left > 0; left -= block.length) {
    const chunk = left >= block.length ? block : block.subarray(0, left);
    onChunk?.(chunk);
    yield chunk;
  }
}

const IEND_LENGTH = 12;

/** The PNG unchanged, or with a private ancillary 'siMu' chunk of zeros before IEND so it is exactly `size` bytes. */
function paddedPng(png: Buffer, size: number | null): FileBody {
  const extra = size === null ? -1 : size - png.length - 12;
  if (extra < 0) return { contentType: CONTENT_TYPES.png, size: png.length, chunks: function* () { yield png; } };
  return {
    contentType: CONTENT_TYPES.png,
    size: png.length + 12 + extra,
    chunks: function* () {
      yield png.subarray(0, png.length - IEND_LENGTH);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(extra, 0);
      head.write('siMu', 4, 'latin1');
      yield head;
      let crc = crc32(head.subarray(4));
      yield* zeros(extra, (chunk) => {
        crc = crc32(chunk, crc);
      });
      const tail = Buffer.alloc(4);
      tail.writeUInt32BE(crc, 0);
      yield tail;
      yield png.subarray(png.length - IEND_LENGTH);
    },
  };
}

/** The MP4 unchanged, or followed by a 'free' box of zeros so it is exactly `size` bytes. */
function paddedMp4(mp4: Buffer, size: number | null): FileBody {
  const box = size === null ? 0 : size - mp4.length;
  if (box < 8) return { contentType: CONTENT_TYPES.mp4, size: mp4.length, chunks: function* () { yield mp4; } };
  return {
    contentType: CONTENT_TYPES.mp4,
    size: mp4.length + box,
    chunks: function* () {
      yield mp4;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(box, 0);
      head.write('free', 4, 'latin1');
      yield head;
      yield* zeros(box - 8);
    },
  };
}

/** Wrap a file's bytes, padded to `size` when given (see the module comment). */
export function fileBody(bytes: Buffer, ext: FileExt, size: number | null): FileBody {
  const capped = size === null ? null : Math.min(size, MAX_FILE_BYTES);
  return ext === 'png' ? paddedPng(bytes, capped) : paddedMp4(bytes, capped);
}
