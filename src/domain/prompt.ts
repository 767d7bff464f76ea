/**
 * Prompt parsing and request building for /imagine and /animate: pure domain
 * code (no discord.js, no HTTP). The pieces live in ./prompt/; this is the
 * public surface.
 */
export { PromptError, type PromptResult } from './prompt/errors.js';
export {
  BUILT_IN_DEFAULTS,
  IMAGE_MODES,
  IMAGE_ONLY_PROMPTS,
  IMAGINE_OPTION_NAMES,
  REFERENCE_VERSIONS,
  parseImagine,
  type ChannelDefaults,
  type ImageMode,
  type ImagineInput,
  type ImagineOptions,
  type ImagineRequest,
  type ParsedImagine,
  type ResolvedParam,
  type Source,
} from './prompt/imagine.js';
export {
  ANIMATE_OPTION_NAMES,
  DEFAULT_ANIMATE_PROMPT,
  buildVideoRequest,
  type AnimateInput,
  type AnimateRequest,
} from './prompt/animate.js';
export { IMAGINE_FLAGS, UNAVAILABLE_FLAGS } from './prompt/flags.js';
export { parseImagineBatch, type ImagineBatchJob } from './prompt/imagineBatch.js';
export { MAX_BATCH_JOBS } from './prompt/permutations.js';
export { IMAGE_CONTENT_TYPES, checkAttachment } from './prompt/values.js';
