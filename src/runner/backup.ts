import type { Logger } from "pino";
import { markBackupOutcome, type RunOutcome } from "../backup/manifest.js";
import { type BackupResult, takeBackup } from "../backup/pg-dump.js";
import { type Fingerprint, fingerprintTables } from "../db/fingerprint.js";
import type { TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";

export interface BeforeState {
  /** The targets' fingerprints before the run: what a rollback is proven against. Null for a plan: it reads them in its own snapshot. */
  before: Record<string, Fingerprint> | null;
  backup: BackupResult | null;
}

/**
 * The state before the run: with a backup, its manifest's fingerprints (taken in the dump's
 * own snapshot); without one, the fingerprints preflight already read (`known`) or read
 * here. Either way they are taken once. A plan takes neither.
 */
export async function takeBeforeState(
  plan: RunPlan,
  tables: readonly Pick<TablePlan, "name" | "info">[],
  db: TxLike,
  url: string,
  releaseHash: string,
  clock: PhaseClock,
  log: Logger,
  known: Record<string, Fingerprint> | null = null,
): Promise<BeforeState> {
  if (plan.mode === "plan") return { before: null, backup: null };
  if (plan.backup === "off") {
    const before =
      known ??
      (await clock.run(
        "preflight",
        () =>
          fingerprintTables(
            db,
            tables.map((t) => t.info),
          ),
        (fp) => ({ rows: Object.values(fp).reduce((a, f) => a + f.rows, 0) }),
      ));
    return { before, backup: null };
  }
  const backup = await clock.run(
    "backup",
    () =>
      takeBackup({
        url,
        schema: plan.schema,
        tables: tables.map((t) => t.name),
        dir: plan.backupDir,
        mode: plan.backup as "tables" | "full",
        environment: plan.target.env,
        release: plan.release,
        releaseHash,
        runId: plan.runId,
        log,
        signal: plan.signal,
      }),
    (r) => ({ id: r.manifest.id, sizeBytes: r.manifest.sizeBytes, rows: Object.values(r.manifest.tables).reduce((n, t) => n + t.rows, 0) }),
  );
  const before = Object.fromEntries(tables.map((t) => [t.name, pick(backup.manifest.tables[t.name])]));
  return { before, backup };
}

const pick = (t: { rows: number; hash: string } | undefined): Fingerprint => ({ rows: t?.rows ?? 0, hash: t?.hash ?? "0" });

/**
 * Records in the backup's manifest how its run ended (committed, rolled back), so that
 * `restore latest` and retention treat it right; a failure to record is a warning, never the
 * run's outcome. An outcome nobody knows leaves the backup pending.
 */
export async function markOutcome(state: BeforeState | null, outcome: RunOutcome, log: Logger): Promise<void> {
  if (!state?.backup) return;
  await markBackupOutcome(state.backup.manifestPath, outcome).catch((e: unknown) =>
    log.warn(
      { phase: "backup", backup: state.backup?.manifest.id, reason: (e as Error).message },
      `could not record outcome "${outcome}" in the backup's manifest`,
    ),
  );
}
