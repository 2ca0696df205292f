/** Parts of the room batch's fold (room-batch.ts): the empty fold, and an ensure's settings. */
import type { RoomChangeRequest, RoomState } from '../vocabulary/contract.js';
import type { BatchFold } from './batch-fold.js';

/** A fold with nothing folded yet. */
export function emptyFold(): BatchFold {
  return {
    refusals: [],
    targets: new Map(),
    previousRoles: {},
    upserts: {},
    removals: new Set(),
    settingsChanged: false,
    membersOnly: true,
    archive: false,
    reconcile: false,
    aliases: false,
    onlyRenames: true,
    lists: new Map(),
    verify: new Set(),
    answers: [],
  };
}

/** An ensure's settings into the desired state; its adoption and event time into the fold. */
export function foldEnsure(state: RoomState, fold: BatchFold, c: Extract<RoomChangeRequest, { type: 'ensure' }>): void {
  const s = c.settings ?? {};
  if (s.name !== undefined) state.settings.name = s.name;
  if (s.topic !== undefined) state.settings.topic = s.topic;
  if (s.visibility !== undefined) state.settings.visibility = s.visibility;
  if (s.prune !== undefined) state.settings.prune = s.prune;
  if (s.knock !== undefined) state.settings.knock = s.knock;
  // Matrix cannot turn encryption off again: it is only ever chosen at creation.
  if (s.encrypted !== undefined && state.roomId === null) state.settings.encrypted = s.encrypted;
  if (c.adopt) fold.adopt = c.adopt;
  if (c.time) fold.time = c.time;
}
