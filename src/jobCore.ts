/**
 * The job core: the tracker and the job service over one repository, one
 * provider registry, one presenter and one clock. buildApp (src/app.ts)
 * builds the bot on it; the domain test harness and the benchmark's pollers
 * build the same core with their own presenter and options, so the wiring of
 * tracker and service exists once.
 */
import type { JobRepository } from './domain/jobRepository.js';
import type { Clock, JobPresenter } from './domain/ports.js';
import type { ProviderRegistry } from './domain/provider.js';
import { JobService, type JobServiceDeps } from './domain/service.js';
import { Tracker, type TrackerOptions } from './domain/tracker.js';

type Shared = 'repo' | 'providers' | 'presenter' | 'clock';

export interface JobCoreDeps {
  repo: JobRepository;
  providers: ProviderRegistry;
  presenter: JobPresenter;
  clock: Clock;
  /** The tracker's own options: schedule, poll budget, observer, learned timings, logger… */
  tracker?: Omit<TrackerOptions, Shared>;
  /** The service's own options: admission, failover, callbacks, logger… */
  service?: Omit<JobServiceDeps, Shared | 'tracker'>;
}

export interface JobCore {
  tracker: Tracker;
  jobs: JobService;
}

export function buildJobCore(deps: JobCoreDeps): JobCore {
  const { repo, providers, presenter, clock } = deps;
  const tracker = new Tracker({ ...deps.tracker, repo, providers, presenter, clock });
  const jobs = new JobService({ ...deps.service, repo, providers, presenter, clock, tracker });
  return { tracker, jobs };
}
