/**
 * The local APIXO server ("simulator"): a stand-in for APIXO's Midjourney API
 * written from document 003 and the notes; behaviour and open choices are
 * described in server.ts.
 *
 *   const sim = await startApixoSimulator({ apiKey: 'k', now: () => clock, seed: 1 });
 *   // point ApixoClient at sim.url; inspect sim.requests / sim.tasks; sim.inject({...}); await sim.close();
 */
export { startApixoSimulator } from './server.js';
export { APIXO_SIM_DEFAULTS } from './http.js';
export { APIXO_CALLBACK_MAX_ATTEMPTS, APIXO_CALLBACK_TIMEOUT_MS } from './callbacks.js';
export { DEFAULT_APIXO_PRICES, APIXO_SPEED_SECONDS, statusData, stateAt } from './tasks.js';
export type {
  ApixoFault,
  ApixoFaultEndpoint,
  ApixoRecordedRequest,
  ApixoRequestEndpoint,
  ApixoSimPrices,
  ApixoSimTask,
  ApixoSimulator,
  ApixoSimulatorOptions,
} from './types.js';
