/**
 * Inputs, results and message definitions of the workflows. Pure: the API imports this file to
 * start workflows and send updates without pulling in workflow code.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

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
  /** The API request that asked for it, for following one request into Temporal. */
  requestId?: string;
}

export interface ProvisionUserResult {
  userId: string;
  displayName: string;
  /** What this particular request changed on the homeserver. */
  created: boolean;
  displayNameChanged: boolean;
  tokenIssued: boolean;
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
}

export interface EnsureUserResult {
  userId: string;
  created: boolean;
  displayNameChanged: boolean;
}

export interface EnsureCredentialResult {
  issued: boolean;
}

/** Provision (or update) the user; the caller learns the outcome. Used with Update-with-Start. */
export const provisionUserUpdate = defineUpdate<ProvisionUserResult, [ProvisionUserRequest]>('provisionUser');
/** The user's current state as the workflow knows it. */
export const userStateQuery = defineQuery<UserState>('userState');

export const DISPLAY_NAME_MAX_LENGTH = 256;
