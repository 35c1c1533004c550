import type { Logger } from "pino";
import type { Step } from "../errors.js";
import { stopIfAsked } from "./interrupted.js";

/**
 * Times the phases of one run: each logs one line with its counts and `durationMs`, adds its
 * time to the report's `phases`, and is the step a failure inside it is reported in.
 *
 * @example const files = await clock.run("preflight", () => checkReleaseFiles(…), (r) => ({ files: r.files.length }))
 */
export class PhaseClock {
  /** The phase in progress (or the last one that ran): where a failure happened. */
  private now: Step = "config";

  constructor(
    private readonly log: Logger,
    readonly totals: Record<string, number>,
    /** Called as each phase starts (progress displays, fault-injection tests). */
    private readonly onStart: (phase: Step) => Promise<void> | void = () => undefined,
    /** A stop request (SIGINT, SIGTERM) is honoured as each phase starts. */
    private readonly signal?: AbortSignal,
  ) {}

  get step(): Step {
    return this.now;
  }

  /** Marks `name` as in progress without timing it (a step whose parts log themselves). */
  enter(name: Step): void {
    this.now = name;
  }

  async run<T>(name: Step, fn: () => Promise<T>, fields: (r: T) => Record<string, unknown> = () => ({})): Promise<T> {
    this.now = name;
    stopIfAsked(this.signal, name);
    await this.onStart(name);
    const started = performance.now();
    const r = await fn();
    const durationMs = Math.round(performance.now() - started);
    this.totals[name] = (this.totals[name] ?? 0) + durationMs;
    this.log.info({ phase: name, ...fields(r), durationMs }, `${name} done`);
    return r;
  }
}
