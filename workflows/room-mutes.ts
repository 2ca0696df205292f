/**
 * Mutes in the room workflow (decision 0058): folding `mute` and `unmute` into the desired state,
 * recording them and writing the power levels (through the one writer, syncPowerLevels, which reads
 * the running mutes), and ending them when their durable timer fires. Issued only for batches and
 * timers that have mutes, so histories from before mutes replay unchanged.
 */
import { log } from '@temporalio/workflow';
import type { PowerLevelChanges } from '../activities/rooms/types.js';
import { acts, type RoomRun } from './room-acts.js';
import type { MuteChanges } from './mute-fold.js';

export { hasMutes, nextMuteEnd } from './mute-fold.js';

/** Records the batch's mutes before the members are worked on, so every power-levels write of the batch sees them. */
export async function recordMutes(run: RoomRun, changes: MuteChanges | undefined): Promise<void> {
  if (changes) await acts.recordMutes({ ref: run.ref, mutes: changes });
}

/** After the members: the levels written with the mutes (read, merge, write, verify); what changed joins `into`. */
export async function writeMutedLevels(run: RoomRun, roomId: string, into: PowerLevelChanges): Promise<void> {
  const changes = await acts.syncPowerLevels({ ref: run.ref, roomId, members: run.state.members });
  for (const [slug, actions] of Object.entries(changes.bySlug)) (into.bySlug[slug] ??= []).push(...actions);
  into.other.push(...changes.other);
}

/**
 * The timer fired: mutes whose end has come are ended (their rows, then the levels restored).
 * Returns how many ended. A failure to restore is left to reconciliation, which no longer sees them.
 */
export async function endDueMutes(run: RoomRun): Promise<number> {
  const { state, ref } = run;
  const now = Date.now();
  const due = Object.entries(state.mutes ?? {})
    .filter(([, until]) => until <= now)
    .map(([slug]) => slug);
  if (due.length === 0) return 0;
  for (const slug of due) delete state.mutes![slug];
  try {
    await acts.recordMutes({ ref, mutes: Object.fromEntries(due.map((slug) => [slug, null])) });
    if (state.roomId !== null && !state.archived) {
      const changes = await acts.syncPowerLevels({ ref, roomId: state.roomId, members: state.members });
      log.info('mutes ended', { members: due, changes: [...Object.values(changes.bySlug).flat(), ...changes.other] });
    }
  } catch (err) {
    log.warn('mutes ended; their power levels are left to reconciliation', { members: due, error: String(err) });
  }
  return due.length;
}
