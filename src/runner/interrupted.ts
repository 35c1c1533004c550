import { EtlError, type Step } from "../errors.js";

/**
 * Throws INTERRUPTED (or TERMINATED, for SIGTERM and a parent that is gone) when the run was
 * asked to stop: called at its safe points, so what follows is an ordinary rollback.
 */
export function stopIfAsked(signal: AbortSignal | undefined, step: Step): void {
  if (!signal?.aborted) return;
  const reason = String(signal.reason ?? "SIGINT");
  const terminated = reason === "SIGTERM" || reason === "parent gone";
  throw new EtlError(
    terminated ? "TERMINATED" : "INTERRUPTED",
    `stopped by ${reason === "parent gone" ? "the loss of the parent process" : reason} during ${step}`,
    {
      step,
      next: "run the same command again when you are ready; nothing of this run was kept",
    },
  );
}

/**
 * A failure that came from the stop request itself (a Ctrl-C on a terminal also reaches
 * pg_dump, which then fails): reported as the stop, with the failure as its cause.
 */
export function asInterruption(error: EtlError, signal: AbortSignal | undefined): EtlError {
  if (!signal?.aborted || error.code === "INTERRUPTED" || error.code === "TERMINATED" || error.code === "COMMIT_IN_DOUBT") return error;
  try {
    stopIfAsked(signal, error.step ?? "config");
  } catch (stop) {
    return (stop as EtlError).with({ runId: error.runId, cause: error, data: error.data });
  }
  return error;
}
