// Keeps one measurement's teardown out of the next one. workerd closes a finished run's
// connections in a burst when it evicts the idle object, about 10 s after its last event,
// and the burst costs ~1 ms of CPU per server-side connection (measured: 6,000 took 4 s).
import { openServerConnections } from "./proc.ts";
import type { ConnectPace } from "./ticker-run.ts";

/** workerd evicts an idle object, closing its connections, about 10 s after its last event. */
const EVICTION_MS = 11_500;
/** Fewer open connections than this count as quiet: the proxy keeps a few to the runtime. */
const QUIET_CONNECTIONS = 20;
const MAX_WAIT_MS = 15_000;

export class Teardown {
  #lastRunEndedAt = 0;
  readonly #ports: number[];

  /** `ports`: the server's public port and the runtime's own port. */
  constructor(ports: number[]) {
    this.#ports = ports;
  }

  runEnded(): void {
    this.#lastRunEndedAt = Date.now();
  }

  /** For ticker runs: connect during the burst's wait, publish after the burst. */
  hold(pace: ConnectPace): void {
    const open = openServerConnections(this.#ports);
    pace.notBefore = open > QUIET_CONNECTIONS ? this.#lastRunEndedAt + EVICTION_MS + open : 0;
  }

  /** For other runs: waits until the last run's connections are closed; returns the ms waited. */
  async settle(): Promise<number> {
    const start = Date.now();
    while (openServerConnections(this.#ports) > QUIET_CONNECTIONS && Date.now() - start < MAX_WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return Date.now() - start;
  }
}
