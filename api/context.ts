import type { Client } from '@temporalio/client';
import type { Db } from '../adapters/store/db.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import type { TemporalConnectionLike } from '../adapters/readiness.js';
import type { RelayHub } from './relay/hub.js';

/** What the API's routes are built from; the process entry point wires the real ones. */
export interface AppDeps {
  config: Config;
  temporal: Client;
  /** The connection under `temporal`, whose health service `/readyz` asks. */
  temporalConnection: TemporalConnectionLike;
  /** PostgreSQL; `/readyz` checks it. */
  db: Db;
  log: Logger;
  /** The realtime relay's sockets and feed; only a process serving WebSockets has one (api/main.ts). */
  relay?: RelayHub;
}

export type { ApiEnv } from './env.js';
