import { WorkflowNotFoundError } from '@temporalio/client';
import { Hono } from 'hono';
import { roomWorkflowId } from '../../workflows/ids.js';
import { roomStateQuery, type RoomState } from '../../workflows/messages.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { addMemberFrom, dmFrom, removeMemberFrom, roomRef, SETTINGS_FIELDS, settingsFrom } from '../room-input.js';
import { readJsonObject, readOptionalJsonObject, rejectUnknownFields } from '../validation.js';

/**
 * Rooms as resources: `/v1/tenants/{tenant}/rooms/{kind}/{slug}` and its members. Every write is
 * idempotent (PUT / DELETE of desired state) and answers with the room workflow's outcome.
 */
export function roomsRoutes(deps: AppDeps) {
  const base = '/:tenant/rooms/:kind/:slug';
  const ref = (c: { req: { param(k: string): string } }, principal: Parameters<typeof roomRef>[0]) =>
    roomRef(principal, c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));

  return new Hono<ApiEnv>()
    .put(base, async (c) => {
      const r = ref(c, c.get('principal'));
      const body = await readOptionalJsonObject(c);
      rejectUnknownFields(body, SETTINGS_FIELDS);
      return roomChange(c, deps, r, { type: 'ensure', settings: settingsFrom(r.kind, body) });
    })
    .delete(base, async (c) => roomChange(c, deps, ref(c, c.get('principal')), { type: 'archive' }))
    .post(`${base}/reconcile`, async (c) => roomChange(c, deps, ref(c, c.get('principal')), { type: 'reconcile' }))
    .get(base, async (c) => {
      const r = ref(c, c.get('principal'));
      const handle = deps.temporal.workflow.getHandle(roomWorkflowId(r.tenant, r.kind, r.slug));
      try {
        const d = await handle.describe();
        const state = d.status.name === 'RUNNING' ? await handle.query(roomStateQuery) : ((await handle.result()) as RoomState);
        return c.json({ workflowStatus: d.status.name, ...state });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') {
          throw new ApiError('M_NOT_FOUND', `no room for ${r.kind} ${r.slug}`);
        }
        const cause = (err as { cause?: { message?: string } }).cause;
        if (cause?.message) throw new ApiError('OM_ROOM_MISSING', cause.message);
        throw err;
      }
    })
    .put(`${base}/members/:userSlug`, async (c) => {
      const r = ref(c, c.get('principal'));
      const body = await readOptionalJsonObject(c);
      rejectUnknownFields(body, ['role', 'displayName']);
      return roomChange(c, deps, r, addMemberFrom(r.kind, c.req.param('userSlug'), body));
    })
    .delete(`${base}/members/:userSlug`, async (c) => {
      const r = ref(c, c.get('principal'));
      return roomChange(c, deps, r, removeMemberFrom(r.kind, c.req.param('userSlug')));
    })
    .post('/:tenant/dms', async (c) => {
      const { ref: r, settings } = dmFrom(c.get('principal'), c.req.param('tenant'), await readJsonObject(c));
      return roomChange(c, deps, r, { type: 'ensure', settings });
    });
}
