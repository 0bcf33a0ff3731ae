/**
 * What every room is to the composition root: started in the list's order, reconfigured in that
 * order on reload, stopped in reverse. A component reads from those before it (the uplink
 * monitor, the resolver) through the shared `AppContext`, never from those after it.
 */
import type { Config } from '../config/types.js';

export interface Component {
  readonly name: string;
  start(config: Config): Promise<void>;
  /**
   * Take `next`. Throwing refuses it: the server stays on `prev` (the components already moved
   * are reconfigured back, in order). Work that cannot be undone waits for `commit`.
   */
  reconfigure(next: Config, prev: Config): Promise<void>;
  /** Every component took the new config: drop what was kept for a way back. */
  commit?(): Promise<void>;
  stop(): Promise<void>;
  /** What the admin API shows of this room (its GET path's body). */
  status?(): unknown;
}
