/**
 * Offboarding a platform user (issue #21, decision 0056): the workflow's id, input, state and
 * messages. Pure, like contract.ts: the API imports it to start and cancel offboardings.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const offboardWorkflowId = (tenant: string, slug: string): string => `offboard:${tenant}:${slug}`;

/** What is done to the account on the homeserver: everything, or (an adopted account by default) only room removal. */
export type OffboardScope = 'full' | 'rooms';

export interface OffboardInput {
  tenant: string;
  /** The user's current slug (the API followed renames). */
  slug: string;
  /** Opaque id of this offboarding: the audit record's key. */
  offboardingId: string;
  erase: boolean;
  /** The erasure's grace period (OFFBOARD_ERASE_GRACE_SECONDS when it was requested). */
  graceMs: number;
  /** Whether an adopted account gets the full treatment (OFFBOARD_ADOPTED_ACCOUNTS=full). */
  adoptedFull: boolean;
  requestId?: string;
}

/**
 * Where an offboarding is: `locking` → `removing` (from every managed room, through each room's
 * workflow) → `deactivating` → (with erasure) `grace` (a durable timer; cancellable) → `erasing`
 * → `done`; or `restoring` → `cancelled` when cancelled inside the grace period.
 */
export type OffboardPhase =
  | 'starting'
  | 'locking'
  | 'removing'
  | 'deactivating'
  | 'grace'
  | 'erasing'
  | 'done'
  | 'restoring'
  | 'cancelled';

export interface OffboardState {
  offboardingId: string;
  phase: OffboardPhase;
  erase: boolean;
  scope: OffboardScope | null;
  /** Rooms the user was removed from. */
  roomsRemoved: number;
  /** Rooms whose removal failed (left to the room's own retries and reconciliation). */
  roomsFailed: number;
  /** When the erasure is due (epoch ms), while in `grace`. */
  eraseDueAt: number | null;
}

/** An offboarding's state before its first step: what the workflow starts from and the API answers for a new one. */
export const startingOffboardState = (offboardingId: string, erase: boolean): OffboardState => ({
  offboardingId,
  phase: 'starting',
  erase,
  scope: null,
  roomsRemoved: 0,
  roomsFailed: 0,
  eraseDueAt: null,
});

/** What the homeserver side of a user's offboarding needs to know, read once at its start. */
export interface OffboardSubject {
  userId: string;
  adopted: boolean;
  displayName: string | null;
}

export const offboardStateQuery = defineQuery<OffboardState>('offboardState');
/** Cancels the offboarding inside its grace period (refused otherwise); answers once the account is restored. */
export const cancelOffboardUpdate = defineUpdate<OffboardState, []>('cancelOffboard');
