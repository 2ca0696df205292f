import type { ReauthUserInput, ReauthUserResult, RoomChangeResult, RoomRef } from '../vocabulary/contract.js';

/**
 * What activities ask of other workflows. Implemented over the Temporal client in worker/, so the
 * user workflow stays the one place that provisions users and the room workflow the one place
 * that writes a room's power levels.
 */
export interface WorkflowGateway {
  /** Provisions the user through the `user:{tenant}:{slug}` workflow and returns the Matrix user id. */
  provisionUser(tenant: string, slug: string, displayName: string): Promise<string>;
  /**
   * Provisions users together through one users batch (`users-batch:…`, decision 0035), waiting
   * for its outcome; each user's failure is theirs (the caller looks again), never the call's.
   */
  provisionUsers(tenant: string, users: { slug: string; displayName: string; userId: string }[]): Promise<void>;
  /** Asks the room workflow to compare the room with its desired state and repair the drift. */
  reconcileRoom(room: RoomRef): Promise<RoomChangeResult>;
  /** Asks the room workflow to remove the member (desired state and homeserver alike) and waits for it. */
  removeMember(room: RoomRef, userSlug: string): Promise<RoomChangeResult>;
  /** Re-authenticates the user through the `user-auth:{tenant}:{slug}` workflow (one at a time per user). */
  reauthUser(input: ReauthUserInput): Promise<ReauthUserResult>;
  /** Makes sure the tenant's reconciliation schedule exists. */
  ensureSchedule(tenant: string): Promise<void>;
}
