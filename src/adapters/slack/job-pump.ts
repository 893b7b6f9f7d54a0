/**
 * Runs due jobs right after a listener committed something, so an Approve click updates the
 * messages within a moment instead of at the next minute sweep. Runs are serialised and coalesced:
 * a kick during a run schedules one more run after it. The job locks keep this safe alongside the
 * sweep (and other processes).
 */
import type { Deps } from '../../operations/context.js';
import { runDueJobs, type JobRunnerOptions } from '../../operations/run-jobs.js';

export class JobPump {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly deps: Deps,
    private readonly options: JobRunnerOptions,
  ) {}

  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no run is in progress (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await runDueJobs(this.deps, this.options);
      } catch (error) {
        this.deps.logger.error('running jobs after an interaction failed; the sweep will retry', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    } while (this.again);
  }
}
