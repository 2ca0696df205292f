/**
 * Erasure (decision 0056): everything the service keeps about one user, deleted in one
 * transaction — their binding and encrypted token, old slugs, desired memberships, message outbox
 * rows, the event-log rows they wrote or that name them, their membership history, webhook
 * payloads that carry their id, and their id in reconciliation reports (replaced). Every table of
 * migrations/ is accounted for here; test/integration/offboard.test.ts checks every column of
 * every table afterwards. What stays: the offboarding record, which names no one.
 */
import { forgetUserInAudit } from './audit.js';
import type { Db } from './db.js';

/** Rows removed (or rewritten) per table: counts only, for the audit record. */
export type ErasureCounts = Record<string, number>;

/** The words a reconciliation report keeps where the erased id was. */
export const ERASED_USER = '[erased user]';

/**
 * `auditKey`: the audit trail's pseudonym key (adapters/store/audit.ts): the user's audit entries
 * are kept, the user in them replaced by a keyed hash (decision 0060); without it they are deleted.
 */
export async function eraseUserData(
  db: Db,
  tenant: string,
  slug: string,
  userId: string,
  auditKey?: Buffer,
): Promise<ErasureCounts> {
  const client = await db.connect();
  const counts: ErasureCounts = {};
  const run = async (table: string, sql: string, params: unknown[]) => {
    counts[table] = (counts[table] ?? 0) + ((await client.query(sql, params)).rowCount ?? 0);
  };
  try {
    await client.query('BEGIN');
    // Every slug the user has had: the current one and those renamed to it.
    const renamed = await client.query<{ old_slug: string }>(
      'SELECT old_slug FROM user_renames WHERE tenant = $1 AND new_slug = $2',
      [tenant, slug],
    );
    const slugs = [slug, ...renamed.rows.map((r) => r.old_slug)];
    await run('message_outbox', 'DELETE FROM message_outbox WHERE tenant = $1 AND (user_slug = ANY($2) OR user_id = $3)', [tenant, slugs, userId]);
    await run('room_members', 'DELETE FROM room_members WHERE tenant = $1 AND user_slug = ANY($2)', [tenant, slugs]);
    // The log is shared by tenants (rooms are the tenant's); an id names one account on this server.
    await run(
      'relay_events',
      'DELETE FROM relay_events WHERE sender = $1 OR state_key = $1 OR strpos(event::text, $1) > 0',
      [userId],
    );
    await run('relay_memberships', 'DELETE FROM relay_memberships WHERE user_id = $1', [userId]);
    await run('webhook_deliveries', 'DELETE FROM webhook_deliveries WHERE tenant = $1 AND strpos(payload::text, $2) > 0', [tenant, userId]);
    // Reports of past runs keep their counts; the id in their texts is replaced (a Matrix id needs no JSON escaping).
    await run(
      'reconcile_runs',
      `UPDATE reconcile_runs SET fixes = replace(fixes::text, $2, '${ERASED_USER}')::jsonb
       WHERE tenant = $1 AND strpos(fixes::text, $2) > 0`,
      [tenant, userId],
    );
    // Join requests they made; decisions they made keep no name.
    await run('join_requests', 'DELETE FROM join_requests WHERE tenant = $1 AND user_id = $2', [tenant, userId]);
    await run(
      'join_requests',
      'UPDATE join_requests SET decided_by = NULL WHERE tenant = $1 AND (decided_by = ANY($2) OR decided_by = $3)',
      [tenant, slugs, userId],
    );
    await run('room_mutes', 'DELETE FROM room_mutes WHERE tenant = $1 AND user_slug = ANY($2)', [tenant, slugs]);
    await run('room_mutes', `UPDATE room_mutes SET actor_slug = '${ERASED_USER}' WHERE tenant = $1 AND actor_slug = ANY($2)`, [tenant, slugs]);
    for (const s of slugs) {
      if (auditKey) counts.audit_log = (counts.audit_log ?? 0) + (await forgetUserInAudit(client, auditKey, { tenant, slug: s, userId }));
      else await run('audit_log', "DELETE FROM audit_log WHERE tenant = $1 AND (user_slug = $2 OR subject = 'user:' || $2)", [tenant, s]);
    }
    await run('user_renames', 'DELETE FROM user_renames WHERE tenant = $1 AND (new_slug = $2 OR old_slug = ANY($3))', [tenant, slug, slugs]);
    await run('matrix_users', 'DELETE FROM matrix_users WHERE tenant = $1 AND (slug = $2 OR user_id = $3)', [tenant, slug, userId]);
    await client.query('COMMIT');
    return counts;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
