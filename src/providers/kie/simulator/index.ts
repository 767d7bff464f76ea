/**
 * The local KIE server ("simulator"): a stand-in for the KIE.ai Midjourney
 * API written from docs/kie-api (000–002) and docs/NOTES.md, for tests, the
 * bot's simulator mode (KIE_BASE_URL=simulator) and the benchmark.
 *
 *   const sim = await startKieSimulator({ apiKey: 'k', now: () => clock, seed: 1 });
 *   // point a client at sim.url; inspect sim.requests / sim.tasks; sim.inject({...}); await sim.close();
 *
 * Behaviour, and the choices the documents leave open:
 * - Routes: KIE_PATHS (POST generate / generateUpscale / generateVary /
 *   generateVideoExtend, GET record-info / chat/credit) and GET|HEAD /files/*.
 *   Anything else, including a wrong method, is HTTP 404 {code:404,msg}.
 * - Errors are HTTP 200 with a body code, as KIE does: 401 bad/missing
 *   Bearer, 400 invalid JSON, 422 schema violation (msg names the field, via
 *   the shared schemas) or unusable parent, 402 "Credits insufficient",
 *   429 rate limit. Create checks run in that order after auth: rate limit
 *   (every authorised create counts), JSON, schema, parent, credits; nothing is
 *   created or charged unless all pass. Failed tasks are not refunded.
 * - taskType of upscale / vary tasks: 'mj_upscale' / 'mj_vary'; extend keeps
 *   the request's taskType. Upscale/vary need a succeeded grid parent
 *   (txt2img, img2img, style, omni, vary) and run at its speed; extend needs a
 *   succeeded video parent (video, video_hd, extend) and index < its clips.
 * - Results: grids 4 PNGs, upscale 1 (512 px, the parent image's colours,
 *   labelled U<n>), video videoBatchSize MP4s, extend 1 MP4. Result files need
 *   no key; see media.ts for ?size=, big_<n> and ?chunked=1.
 * - record-info: createTime/completeTime are ISO strings without ms;
 *   resultInfoJson and the error fields are null until the task ends.
 * - Callbacks (callbacks.ts): sent after the task ends, code 200/500,
 *   promptJson + resultUrls string[]; 15 s timeout; a failed attempt is
 *   retried on each later check, 3 retries at most; delivered once unless
 *   callbackCopies > 1; signed when webhookHmacKey is set.
 * - Faults (faults.ts) come first, before auth: the first injected fault
 *   matching the endpoint answers the request and is used up once.
 * - Default seed is random, so a restarted simulator never reuses task ids.
 */
export { startKieSimulator, bearerOf, DEFAULTS as SIMULATOR_DEFAULTS } from './server.js';
export { DEFAULT_SIM_PRICES, priceOf, type SimPriceTable } from './pricing.js';
export { signWebhook, CALLBACK_TIMEOUT_MS, CALLBACK_MAX_RETRIES } from './callbacks.js';
export { RATE_LIMIT_MSG } from './faults.js';
export { RECORD_NOT_FOUND, UNAUTHORIZED_MSG, CREDITS_MSG, KIE_CODE_MESSAGES } from './handlers.js';
export {
  UPSCALE_TASK_TYPE,
  VARY_TASK_TYPE,
  SPEED_ECHO,
  paramJsonOf,
  recordInfoData,
  callbackBodyOf,
  resultUrlsOf,
} from './tasks.js';
export { SPEED_SECONDS, defaultDurationMs } from './timing.js';
export { MAX_FILE_BYTES, parseFileName, resultFileName } from './media.js';
export type {
  Endpoint,
  Fault,
  KieSimulator,
  RecordedRequest,
  RequestEndpoint,
  SimOp,
  SimPersistence,
  SimTask,
  SimTaskInfo,
  SimulatorOptions,
} from './types.js';
