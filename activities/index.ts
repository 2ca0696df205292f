import { createMessageActivities, type MessageActivityDeps } from './messages.js';
import { createRoomActivities, type RoomActivityDeps } from './rooms.js';
import { createUserActivities, type UserActivityDeps } from './users.js';

export type ActivityDeps = UserActivityDeps & RoomActivityDeps & MessageActivityDeps;

/** Every activity the worker registers, built from real dependencies handed in by the caller. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createUserActivities(deps),
    ...createRoomActivities(deps),
    ...createMessageActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
