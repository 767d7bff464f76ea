/**
 * Jobs stored before the provider port kept KIE's request body
 * (`{ op, body }`) instead of a provider-neutral spec. This reads such a
 * stored body as plain data (no provider import) into the port's words, so
 * 🔄, the extend modal and the result message work on old jobs. Nothing new
 * is stored in this shape.
 */
import type { CreateRequest, FollowUpRequest, ImagineOptions } from './provider.js';

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function legacyImagine(b: Body): CreateRequest {
  const taskType = str(b.taskType);
  const urls = Array.isArray(b.fileUrls) ? (b.fileUrls as string[]) : str(b.fileUrl) ? [str(b.fileUrl)!] : [];
  const options: ImagineOptions = {};
  if (str(b.speed)) options.speed = b.speed as ImagineOptions['speed'];
  if (str(b.aspectRatio)) options.aspectRatio = str(b.aspectRatio);
  if (str(b.version)) options.version = str(b.version);
  if (num(b.variety) !== undefined) options.chaos = num(b.variety);
  if (num(b.stylization) !== undefined) options.stylize = num(b.stylization);
  if (num(b.weirdness) !== undefined) options.weird = num(b.weirdness);
  if (num(b.ow) !== undefined) options.omniWeight = num(b.ow);
  if (typeof b.enableTranslation === 'boolean') options.translate = b.enableTranslation;
  const imageMode = taskType === 'mj_style_reference' ? 'style' : taskType === 'mj_omni_reference' ? 'omni' : 'reference';
  return {
    kind: 'imagine',
    prompt: str(b.prompt) ?? '',
    ...(urls.length ? { imageUrls: urls, imageMode } : {}),
    options,
  };
}

/** A pre-port stored KIE request as the port's request; null when it is not one. */
export function legacySpecOf(stored: unknown): CreateRequest | FollowUpRequest | null {
  if (!stored || typeof stored !== 'object') return null;
  const { op, body } = stored as { op?: unknown; body?: Body };
  if (!body || typeof body !== 'object') return null;
  const taskId = str(body.taskId) ?? '';
  switch (op) {
    case 'generate': {
      const taskType = str(body.taskType);
      if (taskType === 'mj_video' || taskType === 'mj_video_hd') {
        const urls = Array.isArray(body.fileUrls) ? (body.fileUrls as string[]) : [];
        const batch = num(body.videoBatchSize);
        return {
          kind: 'animate',
          imageUrl: urls[0] ?? str(body.fileUrl) ?? '',
          ...(str(body.prompt) ? { prompt: str(body.prompt) } : {}),
          motion: body.motion === 'low' ? 'low' : 'high',
          hd: taskType === 'mj_video_hd',
          batch: batch === 2 || batch === 4 ? batch : 1,
        };
      }
      return legacyImagine(body);
    }
    // KIE's upscale index is 0–3 and its vary index 1–4; positions are 0-based.
    case 'upscale':
      return { action: 'upscale', source: { taskId, position: num(body.imageIndex) ?? 0, resultKind: 'grid' } };
    case 'vary':
      return { action: 'vary', source: { taskId, position: (num(body.imageIndex) ?? 1) - 1, resultKind: 'grid' } };
    case 'extend': {
      const manual = body.taskType === 'mj_video_extend_manual';
      return {
        action: manual ? 'extend_manual' : 'extend_auto',
        source: { taskId, position: num(body.index) ?? 0, resultKind: 'video' },
        ...(manual && str(body.prompt) ? { prompt: str(body.prompt) } : {}),
      };
    }
    default:
      return null;
  }
}
