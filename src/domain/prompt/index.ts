/**
 * Prompt parsing and request building for /imagine and /animate: pure domain
 * code (no discord.js, no HTTP). The pieces live in ./prompt/; this is the
 * public surface.
 */
export { PromptError, type PromptResult } from './errors.js';
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
} from './imagine.js';
export {
  ANIMATE_OPTION_NAMES,
  DEFAULT_ANIMATE_PROMPT,
  buildVideoRequest,
  type AnimateInput,
  type AnimateRequest,
} from './animate.js';
export { IMAGINE_FLAGS, UNAVAILABLE_FLAGS } from './flags.js';
export { parseImagineBatch, type ImagineBatchJob } from './imagineBatch.js';
export { MAX_BATCH_JOBS } from './permutations.js';
export { IMAGE_CONTENT_TYPES, checkAttachment } from './values.js';
