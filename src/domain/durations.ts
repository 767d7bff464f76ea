/**
 * Learned task durations (issue 11), in four rooms:
 * - ./durationModel.ts — one kind and speed's distribution (prior, product-limit
 *   estimate over finished and running tasks, thin tail) and its summary line;
 * - ./durationStore.ts — the persistence port and its in-memory implementation;
 * - ./learnedTimings.ts — the learner that keeps a model per kind and speed;
 * - ./providerTimings.ts — one learner per provider (KIE and APIXO differ).
 * This module is their public face.
 */
export { DEFAULT_LEARNER, describeModel, DurationModel, timingSpeed, type Censoring, type LearnerTuning } from './durationModel.js';
export { InMemoryDurationStore, type DurationStore, type ProviderDurations } from './durationStore.js';
export { describeUsualWindows, LearnedTimings, type LearnedTimingsOptions } from './learnedTimings.js';
export { ProviderTimings } from './providerTimings.js';
