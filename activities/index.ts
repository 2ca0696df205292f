import { createUserActivities, type UserActivityDeps } from './users.js';

export type ActivityDeps = UserActivityDeps;

/** Every activity the worker registers, built from real dependencies handed in by the caller. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createUserActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
