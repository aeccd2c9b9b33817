import type { JobState, TerminalState } from "../protocol";

const TERMINAL: ReadonlySet<JobState> = new Set<TerminalState>(["succeeded", "failed", "canceled"]);

export function isTerminal(state: JobState): state is TerminalState {
  return TERMINAL.has(state);
}
