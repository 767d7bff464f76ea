/**
 * The local KIE server ("simulator"): a stand-in for the KIE.ai Midjourney
 * API written from docs/kie-api and docs/NOTES.md, for tests, the bot's
 * simulator mode (KIE_BASE_URL=simulator) and the benchmark.
 *
 *   const sim = await startKieSimulator({ apiKey: 'test', now: () => clock });
 *   // point a client at sim.url; inspect sim.requests / sim.tasks; sim.inject({...}); await sim.close();
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
  SimTask,
  SimTaskInfo,
  SimulatorOptions,
} from './types.js';
