/**
 * How the API and the worker start our workflows: one place for ids, conflict policy, search
 * attributes and memo, so every start of the same entity looks the same in the Temporal UI.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import {
  ephemeralWorkflowId,
  matrixUserId,
  messageWorkflowId,
  provisionUserWorkflowId,
  reauthUserWorkflowId,
  reconcileWorkflowId,
  roomWorkflowId,
} from '../vocabulary/ids.js';
import {
  ephemeralSignal,
  provisionUserUpdate,
  roomChangeUpdate,
  type EphemeralInput,
  type EphemeralRequest,
  type ProvisionUserResult,
  type ReauthUserInput,
  type ReauthUserResult,
  type RoomChangeRequest,
  type RoomChangeResult,
  type RoomRef,
  type SendMessageInput,
} from '../vocabulary/contract.js';
import type { ephemeralWorkflow } from '../workflows/ephemeral.js';
import type { provisionUserWorkflow } from '../workflows/provision-user.js';
import type { reauthUserWorkflow } from '../workflows/reauth-user.js';
import type { reconcileTenantWorkflow } from '../workflows/reconcile.js';
import type { roomWorkflow } from '../workflows/room.js';
import type { sendMessageWorkflow } from '../workflows/send-message.js';
import { entityAttributes } from '../vocabulary/search-attributes.js';
import type { AuditOrigin } from '../vocabulary/audit.js';
import type { Config } from '../lib/config.js';
import { reauthStartMetadata, reconcileStartMetadata, roomStartMetadata, userStartMetadata } from './workflow-metadata.js';

type StarterConfig = Pick<Config, 'temporal' | 'matrix' | 'rooms'>;

/** Sends a provisioning request to the user's workflow, starting it if needed; resolves once accepted. */
export function provisionUser(
  client: Client,
  config: StarterConfig,
  req: {
    tenant: string;
    slug: string;
    displayName: string;
    requestId?: string;
    /** The user's account as bound (adopted, renamed); the id derived from the slug when not given. */
    userId?: string;
    /** Adoption: bind the user to this existing account. */
    matrixUserId?: string;
    origin?: AuditOrigin; // who asked: recorded in the audit trail (decision 0060)
  },
): Promise<WorkflowUpdateHandle<ProvisionUserResult>> {
  const { tenant, slug } = req;
  const userId = req.userId ?? matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
  const start = new WithStartWorkflowOperation<typeof provisionUserWorkflow>('provisionUserWorkflow', {
    workflowId: provisionUserWorkflowId(tenant, slug),
    taskQueue: config.temporal.taskQueue,
    args: [{ tenant, slug }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: entityAttributes({ tenant, kind: 'user', slug, userId }),
    memo: { summary: `Provision Matrix user ${userId} for ${tenant}/${slug}`, requestId: req.requestId },
    ...userStartMetadata(tenant, slug, userId),
  });
  return client.workflow.startUpdateWithStart(provisionUserUpdate, {
    args: [
      {
        displayName: req.displayName,
        requestId: req.requestId,
        ...(req.matrixUserId ? { matrixUserId: req.matrixUserId } : {}),
        ...(req.origin ? { origin: req.origin } : {}),
      },
    ],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
    startWorkflowOperation: start,
  });
}

/** Runs the user's re-auth workflow, or joins the run already renewing the same token, and waits for it. */
export async function reauthUser(
  client: Client,
  config: StarterConfig,
  input: ReauthUserInput,
): Promise<ReauthUserResult> {
  const userId = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, input.tenant, input.slug);
  const handle = await client.workflow.start<typeof reauthUserWorkflow>('reauthUserWorkflow', {
    workflowId: reauthUserWorkflowId(input.tenant, input.slug),
    taskQueue: config.temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: entityAttributes({ tenant: input.tenant, kind: 'user-auth', slug: input.slug, userId }),
    memo: { summary: `Re-authenticate ${userId} (token generation ${input.staleGeneration} was refused)` },
    ...reauthStartMetadata(input.tenant, input.slug, userId, input.staleGeneration),
  });
  return handle.result();
}

/** Sends one change to the room's workflow, starting it if needed; resolves once accepted. */
export function changeRoom(
  client: Client,
  config: StarterConfig,
  ref: RoomRef,
  change: RoomChangeRequest,
): Promise<WorkflowUpdateHandle<RoomChangeResult>> {
  const start = new WithStartWorkflowOperation<typeof roomWorkflow>('roomWorkflow', {
    workflowId: roomWorkflowId(ref.tenant, ref.kind, ref.slug),
    taskQueue: config.temporal.taskQueue,
    args: [ref],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // EntitySlugs: every slug the entity has had; the workflow adds the later ones (decision 0031).
    typedSearchAttributes: entityAttributes({ ...ref, slugs: [ref.slug] }),
    memo: { summary: `Matrix room of ${ref.kind} ${ref.tenant}/${ref.slug}`, requestId: change.requestId },
    ...roomStartMetadata(ref, config.matrix.userPrefix, config.matrix.serverName),
  });
  return client.workflow.startUpdateWithStart(roomChangeUpdate, {
    args: [change],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
    startWorkflowOperation: start,
  });
}

/** Creates the tenant's reconciliation schedule unless it exists. */
export async function ensureReconcileSchedule(client: Client, config: StarterConfig, tenant: string): Promise<void> {
  try {
    await client.schedule.create<typeof reconcileTenantWorkflow>({
      scheduleId: reconcileWorkflowId(tenant),
      spec: { intervals: [{ every: `${config.rooms.reconcileIntervalMinutes} minutes` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'reconcileTenantWorkflow',
        workflowId: reconcileWorkflowId(tenant),
        taskQueue: config.temporal.taskQueue,
        args: [{ tenant }],
        typedSearchAttributes: entityAttributes({ tenant, kind: 'reconcile' }),
        memo: { summary: `Reconcile the Matrix rooms of ${tenant}` },
        ...reconcileStartMetadata(tenant, config.rooms.reconcileIntervalMinutes),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: {
        summary: `Reconcile the Matrix rooms of ${tenant} every ${config.rooms.reconcileIntervalMinutes} minutes`,
      },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning) && (err as Error).name !== 'ScheduleAlreadyRunning') throw err;
  }
}

/** The send workflow of one client transaction id, and whether this call started it. */
export interface SendMessageStart {
  handle: WorkflowHandle<typeof sendMessageWorkflow>;
  /**
   * True: this call started the run, with this input and memo (the common case; nothing to read
   * back). False: a run of this transaction id was already running or had completed — its memo
   * says whose message it is.
   */
  started: boolean;
}

/**
 * Starts the durable send of one message, or finds the run already started for this client
 * transaction id (running: joined; completed: its result answers the repeat; failed: a new run
 * may try again, with the same Matrix transaction id).
 *
 * The conflict policy is FAIL, not USE_EXISTING, so that the answer says which happened: a start
 * that succeeds created the run (an existing one would have been refused), and only a repeated
 * transaction id costs the caller a look at the run's memo.
 */
export async function startSendMessage(
  client: Client,
  config: StarterConfig,
  input: SendMessageInput,
  requestId?: string,
  /** The sender's account as bound; derived from the slug when not given. */
  senderId?: string,
): Promise<SendMessageStart> {
  const workflowId = messageWorkflowId(input.tenant, input.userSlug, input.clientTxnId);
  const userId =
    senderId ?? matrixUserId(config.matrix.userPrefix, config.matrix.serverName, input.tenant, input.userSlug);
  try {
    const handle = await client.workflow.start<typeof sendMessageWorkflow>('sendMessageWorkflow', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: entityAttributes({
        tenant: input.tenant,
        kind: 'msg',
        slug: input.userSlug,
        userId,
        roomId: input.roomId,
      }),
      // Read back when a transaction id is reused, to tell a repeat from the same user's message elsewhere.
      memo: { userSlug: input.userSlug, roomId: input.roomId, requestId },
      staticSummary: `Message from ${input.tenant}/${input.userSlug} to ${input.kind} ${input.slug}`,
    });
    return { handle, started: true };
  } catch (err) {
    if (
      err instanceof WorkflowExecutionAlreadyStartedError ||
      (err as Error).name === 'WorkflowExecutionAlreadyStartedError'
    ) {
      return { handle: client.workflow.getHandle<typeof sendMessageWorkflow>(workflowId), started: false };
    }
    throw err;
  }
}

/** Hands a typing or read-receipt request to the user's ephemeral workflow for the room, starting it if needed. */
export async function signalEphemeral(
  client: Client,
  config: StarterConfig,
  input: EphemeralInput,
  request: EphemeralRequest,
  /** The user's account as bound; derived from the slug when not given. */
  senderId?: string,
): Promise<void> {
  const userId =
    senderId ?? matrixUserId(config.matrix.userPrefix, config.matrix.serverName, input.tenant, input.userSlug);
  await client.workflow.signalWithStart<typeof ephemeralWorkflow, [EphemeralRequest]>('ephemeralWorkflow', {
    workflowId: ephemeralWorkflowId(input.tenant, input.userSlug, input.kind, input.slug),
    taskQueue: config.temporal.taskQueue,
    args: [input],
    signal: ephemeralSignal,
    signalArgs: [request],
    typedSearchAttributes: entityAttributes({
      tenant: input.tenant,
      kind: 'ephemeral',
      slug: input.userSlug,
      userId,
      roomId: input.roomId,
    }),
    staticSummary: `Typing and read receipts of ${input.tenant}/${input.userSlug} in ${input.kind} ${input.slug}`,
  });
}
