/**
 * The relay's actions and homeserver client for a router: the process's own (api/relay/hub.ts),
 * or — for an app built without the relay, as in tests — a set made from the same parts.
 */
import { createEventLog } from '../../adapters/store/events.js';
import type { AppDeps } from '../context.js';
import { createRelayActions, type RelayActions } from './actions.js';
import { createDirectSends } from './direct-send.js';
import { createRelayHomeserver, type RelayHomeserver } from './homeserver.js';

export function relayActionsFor(deps: AppDeps): { actions: RelayActions; homeserver: RelayHomeserver } {
  const homeserver = deps.relay?.homeserver ?? createRelayHomeserver(deps.config);
  const actions =
    deps.relay?.actions ??
    createRelayActions({
      ...deps,
      log: createEventLog(deps.db),
      homeserver,
      direct: createDirectSends(deps.config, deps.db),
    });
  return { actions, homeserver };
}
