/**
 * The user workflow's inputs, results and messages, and the provisioning activities' (re-exported
 * by contract.ts, which the API and the workflows import). Pure, like it.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuditOrigin } from './audit.js';

export interface UserRef {
  tenant: string;
  slug: string;
}

export interface ProvisionUserInput extends UserRef {
  /** When given, applied at start (an operator starting the workflow by hand). */
  displayName?: string;
  /** State carried over continue-as-new. */
  carried?: UserState;
  /** How long the workflow stays open waiting for further changes before it completes. */
  idleTimeoutMs?: number;
}

export interface ProvisionUserRequest {
  displayName: string;
  /**
   * Bind the user to this existing Matrix account (adoption) instead of creating one. Never created,
   * renamed or deactivated by the service; acted as only where the identity mode can (canActAs).
   */
  matrixUserId?: string;
  /** The API request that asked for it, for following one request into Temporal. */
  requestId?: string;
  /** Who asked (decision 0060): a request carrying one is recorded in the audit trail. */
  origin?: AuditOrigin;
}

export interface ProvisionUserResult {
  userId: string;
  displayName: string;
  /** What this particular request changed on the homeserver. */
  created: boolean;
  displayNameChanged: boolean;
  tokenIssued: boolean;
  /** The account existed before the service and is only bound to the user (absent from older runs). */
  adopted?: boolean;
}

export interface UserState extends UserRef {
  userId: string | null;
  displayName: string | null;
  provisioned: boolean;
  /** Number of requests applied by this workflow (across continue-as-new). */
  requestsApplied: number;
  /** Requests accepted but not finished yet. */
  pendingRequests: number;
  /** Why the most recent request failed, cleared by the next success. */
  lastError: { type: string; message: string } | null;
}

export interface EnsureUserInput extends UserRef {
  displayName: string;
  /** Adoption: bind to this existing account (see ProvisionUserRequest). */
  matrixUserId?: string;
}

export interface EnsureUserResult {
  userId: string;
  created: boolean;
  displayNameChanged: boolean;
  /** The user had been deactivated on the homeserver and was brought back (same id). */
  reactivated: boolean;
  /** An adopted account: bound, never created, renamed or deactivated by the service. */
  adopted?: boolean;
}

/** The user as ensured, and whether a new token was issued and stored. */
export interface ProvisionMatrixUserResult extends EnsureUserResult {
  tokenIssued: boolean;
}

export interface ReauthUserInput extends UserRef {
  /** The token generation the homeserver refused; a newer one means the work is already done. */
  staleGeneration: number;
}

/** The details carried by a `MatrixUnknownToken` failure: which stored token generation stopped working. */
export interface UnknownTokenDetails {
  tenant: string;
  slug: string;
  generation: number;
}

export interface ReauthUserResult {
  userId: string;
  renewed: boolean;
  reprovisioned: boolean;
  generation: number;
}

export interface EnsureCredentialResult {
  issued: boolean;
}

/** Provision (or update) the user; the caller learns the outcome. Used with Update-with-Start. */
export const provisionUserUpdate = defineUpdate<ProvisionUserResult, [ProvisionUserRequest]>('provisionUser');
/** The user's current state as the workflow knows it. */
export const userStateQuery = defineQuery<UserState>('userState');

export const DISPLAY_NAME_MAX_LENGTH = 256;
