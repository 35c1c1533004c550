/**
 * Config file for CLI runs of hostile cases: the case (target, batch size, bent names), the
 * release folder and the name of the hostile file come from the environment.
 */
import { defineConfig } from "../../../src/config/define-config.js";
import { caseConfig, type HostileCase } from "./hostile-kit.js";

const c = JSON.parse(process.env.HOSTILE_CASE ?? "{}") as Pick<HostileCase, "target" | "batchSize" | "config">;
export default defineConfig(
  caseConfig(process.env.HOSTILE_DIR ?? "", process.env.HOSTILE_BACKUP_DIR ?? "", c, process.env.HOSTILE_FILE ?? ""),
);
