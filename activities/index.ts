import { createMessageActivities, type MessageActivityDeps } from './messages.js';
import { createRoomActivities, type RoomActivityDeps } from './rooms.js';
import { createUserActivities, type UserActivityDeps } from './users.js';
import { createUsersBatchActivities } from './users-batch.js';

export type ActivityDeps = UserActivityDeps & RoomActivityDeps & MessageActivityDeps;

/** Every activity the worker registers, built from real dependencies handed in by the caller. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createUserActivities(deps),
    ...createUsersBatchActivities(deps),
    ...createRoomActivities(deps),
    ...createMessageActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
