/** Every workflow the worker registers. */
export { provisionUserWorkflow } from './provision-user.js';
export { reauthUserWorkflow } from './reauth-user.js';
export { roomWorkflow } from './room.js';
export { reconcileTenantWorkflow } from './reconcile.js';
export { sendMessageWorkflow } from './send-message.js';
export { ephemeralWorkflow } from './ephemeral.js';
export { provisionUsersBatchWorkflow } from './provision-users-batch.js';
export { webhookRoomWorkflow } from './webhook-room.js';
export { offboardUserWorkflow } from './offboard.js';
