/**
 * The activities of offboarding a user (workflows/offboard.ts, decision 0056). Each is idempotent:
 * a retry repeats what is already so (a lock of a locked account, a removal of someone gone, a
 * purge of rows already deleted) and records a step once.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AccountOffboarding } from '../adapters/identity/offboard.js';
import type { Identity } from '../adapters/identity/index.js';
import type { Db } from '../adapters/store/db.js';
import { eraseUserData } from '../adapters/store/erasure.js';
import {
  dropToken,
  offboardRooms,
  type OffboardingState,
  type OffboardingStore,
} from '../adapters/store/offboardings.js';
import type { UserStore } from '../adapters/store/users.js';
import { UndecryptableTokenError } from '../lib/token-cipher.js';
import type { RoomRef } from '../vocabulary/contract.js';
import { FailureType } from '../vocabulary/failures.js';
import type { OffboardScope, OffboardSubject } from '../vocabulary/offboard.js';
import type { WorkflowGateway } from './gateway.js';

export interface OffboardDeps {
  store: OffboardingStore;
  accounts: AccountOffboarding;
  db: Db;
  /** The audit trail's pseudonym key: the user's entries kept under a keyed hash (decision 0060). */
  auditKey?: Buffer;
}

export interface OffboardActivityDeps {
  identity: Identity;
  users: UserStore;
  gateway: WorkflowGateway;
  /** Absent where offboarding is not wired (unit tests of other activities). */
  offboard?: OffboardDeps;
}

interface Who {
  tenant: string;
  slug: string;
  offboardingId: string;
}

const wired = (deps: OffboardActivityDeps): OffboardDeps => {
  if (!deps.offboard) throw new Error('offboarding is not wired into this worker');
  return deps.offboard;
};

/** The steps on the account and its rooms. */
function accountSteps(deps: OffboardActivityDeps) {
  return {
    /**
     * Who is offboarded, read once (renames followed), and the record begun. Unknown users fail
     * (non-retryable): there is nothing to offboard. `scope`: `rooms` for an adopted account unless
     * `adoptedFull`, and for one the service cannot act as at all.
     */
    async offboardBegin(
      input: Who & { erase: boolean; adoptedFull: boolean },
    ): Promise<{ subject: OffboardSubject; slug: string; scope: OffboardScope; deactivateEarly: boolean }> {
      const stored = await deps.users.get(input.tenant, input.slug);
      if (!stored)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no user ${input.slug} in tenant ${input.tenant} (never provisioned, or already erased)`,
          nonRetryable: true,
        });
      const full = (!stored.adopted || input.adoptedFull) && deps.identity.canActAs(stored.userId);
      const scope: OffboardScope = full ? 'full' : 'rooms';
      await wired(deps).store.begin({
        id: input.offboardingId,
        tenant: input.tenant,
        userId: stored.userId,
        erase: input.erase,
        adopted: stored.adopted,
        scope,
      });
      return {
        subject: { userId: stored.userId, adopted: stored.adopted, displayName: stored.displayName },
        slug: stored.slug,
        scope,
        // Deactivated before the grace period only where a cancel can reactivate (admin mode).
        deactivateEarly: wired(deps).accounts.reversible,
      };
    },

    /** The account can no longer be used; the service's own token for it is logged out and forgotten. */
    async offboardLock(input: Who & { userId: string }): Promise<void> {
      const o = wired(deps);
      // A token that cannot be decrypted cannot be logged out either; it is forgotten all the same.
      const token =
        deps.identity.mode === 'admin'
          ? await deps.users.getToken(input.tenant, input.slug).catch((err: unknown) => {
              if (err instanceof UndecryptableTokenError) return null;
              throw err;
            })
          : null;
      await o.accounts.lock(input.userId, token);
      await dropToken(o.db, input.tenant, input.slug);
    },

    /** The managed rooms the user is a desired member of. */
    async offboardListRooms(input: Who): Promise<RoomRef[]> {
      const rooms = await offboardRooms(wired(deps).db, input.tenant, input.slug);
      return rooms.map((r) => ({ tenant: input.tenant, kind: r.kind, slug: r.slug }));
    },

    /** Through the room's workflow, so its desired state (and so reconciliation) agrees. */
    async offboardRemoveFromRoom(input: { ref: RoomRef; userSlug: string }): Promise<string[]> {
      return (await deps.gateway.removeMember(input.ref, input.userSlug)).actions;
    },

    async offboardDeactivate(input: { userId: string; erase: boolean }): Promise<void> {
      await wired(deps).accounts.deactivate(input.userId, input.erase);
    },

    /** The files the user uploaded, deleted on the homeserver: how many, or null where the mode cannot. */
    async offboardDeleteUploads(input: { userId: string }): Promise<number | null> {
      return wired(deps).accounts.deleteUploads(input.userId);
    },
  };
}

/** Erasure, restoration and the record. */
function dataSteps(deps: OffboardActivityDeps) {
  return {

    /** Everything the service keeps about the user, deleted; the counts go to the record. */
    async offboardPurge(input: Who & { userId: string }): Promise<number> {
      const counts = await eraseUserData(wired(deps).db, input.tenant, input.slug, input.userId, wired(deps).auditKey);
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },

    /** Cancelled in the grace period: the account as it was (same id), with a fresh token where the mode stores one. */
    async offboardRestore(input: Who & { userId: string; displayName: string | null; scope: OffboardScope }): Promise<void> {
      if (input.scope === 'full') await wired(deps).accounts.restore(input.userId, input.displayName ?? input.slug);
      await deps.identity.ensureCredential({ tenant: input.tenant, slug: input.slug, userId: input.userId });
    },

    /** One step of the record (once per name), optionally moving its state; `finish` ends it. */
    async offboardRecord(input: {
      offboardingId: string;
      step: string;
      count?: number;
      state?: OffboardingState;
      eraseDueAt?: number | null;
      finish?: 'done' | 'cancelled';
    }): Promise<void> {
      const { store } = wired(deps);
      await store.step(input.offboardingId, input.step, {
        ...(input.count !== undefined ? { count: input.count } : {}),
        ...(input.state ? { state: input.state } : {}),
        ...(input.eraseDueAt !== undefined ? { eraseDueAt: input.eraseDueAt === null ? null : new Date(input.eraseDueAt) } : {}),
      });
      if (input.finish) await store.finish(input.offboardingId, input.finish);
    },
  };
}

export function createOffboardActivities(deps: OffboardActivityDeps) {
  return { ...accountSteps(deps), ...dataSteps(deps) };
}

export type OffboardActivities = ReturnType<typeof createOffboardActivities>;
