import { execFileSync } from "node:child_process";
import { PYTHON } from "../training/pipeline-smoke.ts";

export { PYTHON };

/** Whether the Python the training scripts run on has PyTorch (scripts/setup.sh --test installs
 *  python3-torch); tests that run those scripts are skipped without it. */
export function hasTorch(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
