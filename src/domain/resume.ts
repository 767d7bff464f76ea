/**
 * Putting jobs back on their feet after a start (or a lease takeover):
 * running ones go back to the tracker, pending ones without a taskId are
 * sent when their create never left (no Job.createSentAt: they were still
 * waiting for a create slot), else failed as interrupted (the provider may
 * have them: never re-sent), finished ones
 * not yet shown are delivered again, queued ones are left to the queue
 * (unless a dead process had already taken them out of it: those start).
 */
import { isTerminal, transition, type Job } from './job.js';
import type { JobRepository } from './jobRepository.js';
import type { Clock } from './ports.js';
import { INTERRUPTED_ERROR, type ResumeSummary } from './submission.js';
import { describeError, type DomainLogger, type Tracker } from './tracker.js';

export interface ResumeDeps {
  repo: JobRepository;
  tracker: Tracker;
  clock: Clock;
  logger: DomainLogger;
  /** Books an ended job and starts what its slot frees. */
  afterTerminal: (job: Job) => Promise<void>;
  /** Admission.drained: was this queued job already taken out of its queue to start? */
  drained?: (job: Job) => Promise<boolean>;
  /** Starts a queued job (JobService.startQueued); true when it now runs. */
  startQueued: (job: Job) => Promise<boolean>;
  /** Sends a pending job whose create never left (JobService.send); true when it now runs. */
  sendPending?: (job: Job) => Promise<boolean>;
}

/**
 * Put every unfinished job (or the given ones) back to work after a start.
 * Call before tracker.start(). Never re-sends anything that may have reached the provider.
 */
export async function resumeJobs(deps: ResumeDeps, only?: readonly Job[]): Promise<ResumeSummary> {
  const summary: ResumeSummary = { polling: 0, interrupted: 0, redelivering: 0, queued: 0 };
  // Several processes: only the jobs whose leases this one just took (src/domain/leases.ts).
  for (const job of only ?? (await deps.repo.listActive())) {
    try {
      await resumeOne(deps, job, summary);
    } catch (error) {
      deps.logger.error({ jobId: job.id, state: job.state, err: describeError(error) }, 'service: could not resume job');
    }
  }
  deps.logger.info({ ...summary }, 'service: resumed jobs');
  return summary;
}

async function resumeOne(deps: ResumeDeps, job: Job, summary: ResumeSummary): Promise<void> {
  switch (job.state) {
    case 'queued':
      // Taken out of the queue to start by a process that died before starting it: nobody else will.
      // (startQueued's queued → pending write is atomic, so a live starter and this one never both send.)
      if (await deps.drained?.(job)) {
        if (await deps.startQueued(job)) summary.polling++;
        return;
      }
      summary.queued++;
      return;
    case 'pending': {
      if (job.taskId) {
        // KIE accepted it but the 'running' write was lost: follow it.
        const running = await deps.repo.update(job.id, (j) =>
          transition(j, 'running', { submittedAt: j.submittedAt ?? j.createdAt }),
        );
        deps.tracker.track(running);
        summary.polling++;
        return;
      }
      if (job.createSentAt === undefined && deps.sendPending) {
        // Still waiting for a create slot when its process died: nothing reached the provider, so
        // send it now, once (the send's mark is a conditional write: a second sender is refused).
        deps.logger.info({ jobId: job.id }, 'service: resuming a job whose create was never sent; sending it');
        if (await deps.sendPending(job)) summary.polling++;
        return;
      }
      const failed = await deps.repo.update(job.id, (j) =>
        transition(j, 'failed', { error: INTERRUPTED_ERROR, finishedAt: deps.clock.now() }),
      );
      deps.logger.warn({ jobId: job.id }, 'service: job was interrupted while being sent to KIE; not re-sending');
      summary.interrupted++;
      await deps.afterTerminal(failed);
      deps.tracker.track(failed);
      return;
    }
    case 'running':
      deps.tracker.track(job);
      summary.polling++;
      return;
    default:
      if (isTerminal(job.state) && !job.delivered) {
        deps.tracker.track(job);
        summary.redelivering++;
      }
  }
}
