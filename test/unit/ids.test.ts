import { describe, expect, it } from '@jest/globals';
import {
  canonicalTenant,
  dmSlug,
  escapeSlug,
  roleProblem,
  roomAliasLocalpart,
  roomSlugProblem,
  matrixUserId,
  parseWorkflowId,
  provisionUserWorkflowId,
  slugProblem,
  tenantProblem,
  userIdProblem,
  userLocalpart,
} from '../../vocabulary/ids.js';

describe('Matrix localparts from (tenant, slug)', () => {
  it('derives om_<tenant>_<slug> for plain lowercase slugs', () => {
    expect(matrixUserId('om', 'localhost', 'acme', 'alice-1')).toBe('@om_acme_alice-1:localhost');
  });

  it('escapes upper case and underscores so distinct slugs never share a localpart', () => {
    expect(escapeSlug('Alice_B')).toBe('_alice___b');
    const slugs = ['alice', 'Alice', 'a_lice', 'a__lice', '_alice'.slice(1), 'A_lice', 'a_Lice', 'aLice', 'al.ice', 'al-ice'];
    const localparts = slugs.map((s) => userLocalpart('om', 'acme', s));
    expect(new Set(localparts).size).toBe(new Set(slugs).size);
    for (const lp of localparts) expect(lp).toMatch(/^[a-z0-9._=/+-]+$/);
  });

  it('keeps tenants apart: the first underscore after the prefix ends the tenant', () => {
    expect(userLocalpart('om', 'a', 'b_c')).not.toBe(userLocalpart('om', 'a-b', 'c'));
    expect(tenantProblem('a_b')).not.toBeNull();
  });

  it('names the problem with empty, too long and unmappable slugs', () => {
    expect(slugProblem('')).toMatch(/must not be empty/);
    expect(slugProblem('x'.repeat(101))).toMatch(/longer than 100/);
    expect(slugProblem('al ice')).toMatch(/cannot be mapped to a Matrix localpart: character " "/);
    expect(slugProblem('ali@ce')).toMatch(/character "@"/);
    expect(slugProblem('-alice')).toMatch(/cannot be mapped/);
    expect(slugProblem('émile')).toMatch(/character "é"/);
    expect(slugProblem('alice')).toBeNull();
  });

  it('rejects a slug whose user id would exceed 255 bytes', () => {
    expect(userIdProblem('om', 'localhost', 'acme', 'A'.repeat(100))).toBeNull();
    expect(userIdProblem('om', 'x'.repeat(100) + '.example.org', 'acme', 'A'.repeat(100))).toMatch(/over Matrix's limit of 255/);
  });

  it('validates tenants', () => {
    expect(tenantProblem('acme')).toBeNull();
    expect(tenantProblem('acme-2')).toBeNull();
    expect(tenantProblem('')).toMatch(/empty/);
    expect(tenantProblem('Acme')).toMatch(/a-z/);
    expect(tenantProblem('-acme')).toMatch(/a-z/);
    expect(tenantProblem('a'.repeat(33))).toMatch(/1-32/);
  });

  it('maps a tenant to one canonical form: ASCII upper case read as lower case, nothing else touched (decision 0033)', () => {
    expect(canonicalTenant('Acme-2')).toBe('acme-2');
    expect(canonicalTenant('ACME')).toBe(canonicalTenant('acme'));
    expect(userLocalpart('om', canonicalTenant('AcMe'), 'alice')).toBe('om_acme_alice');
    // toLowerCase() would make these "k" and "i̇"; they stay, and stay refused.
    for (const odd of ['\u212Acme', '\u0130cme']) {
      expect(canonicalTenant(odd)).toBe(odd);
      expect(tenantProblem(canonicalTenant(odd))).toMatch(/tenant must be/);
    }
    expect(tenantProblem(canonicalTenant('Bad_Tenant'))).toMatch(/tenant must be/);
  });
});

describe('room ids', () => {
  it('keys a DM by its sorted pair and maps it to one alias', () => {
    expect(dmSlug('zoe', 'yan')).toBe('yan~zoe');
    expect(dmSlug('yan', 'zoe')).toBe('yan~zoe');
    expect(roomSlugProblem('dm', 'yan~zoe')).toBeNull();
    expect(roomSlugProblem('dm', 'zoe~yan')).toMatch(/sorted/);
    expect(roomSlugProblem('dm', 'yan~yan')).toMatch(/two different users/);
    expect(roomSlugProblem('dm', 'yan')).toMatch(/two user slugs/);
    expect(roomAliasLocalpart('om', 'acme', 'dm', 'Yan~zoe')).toBe('om_acme_dm__yan=7ezoe');
    expect(roomAliasLocalpart('om', 'acme', 'event', 'summer_fest')).toBe('om_acme_event_summer__fest');
  });

  it('checks roles per room kind', () => {
    expect(roleProblem('event', 'host')).toBeNull();
    expect(roleProblem('group', 'host')).toMatch(/not one of owner, admin, moderator, member/);
    expect(roleProblem('dm', 'member')).toBeNull();
  });
});

describe('workflow ids', () => {
  it('round-trips user workflow ids and rejects foreign ones', () => {
    expect(provisionUserWorkflowId('acme', 'Alice')).toBe('user:acme:Alice');
    expect(parseWorkflowId('user:acme:Alice')).toEqual({ kind: 'user', tenant: 'acme', slug: 'Alice' });
    expect(parseWorkflowId('user-auth:acme:bob')).toEqual({ kind: 'user-auth', tenant: 'acme', slug: 'bob' });
    expect(parseWorkflowId('room:acme:event:x')).toEqual({ kind: 'room', tenant: 'acme', slug: 'x', roomKind: 'event' });
    expect(parseWorkflowId('room:acme:dm:alice~bob')).toEqual({ kind: 'room', tenant: 'acme', slug: 'alice~bob', roomKind: 'dm' });
    expect(parseWorkflowId('room:acme:dm:bob~alice')).toBeNull();
    expect(parseWorkflowId('room:acme:party:x')).toBeNull();
    expect(parseWorkflowId('reconcile:acme')).toEqual({ kind: 'reconcile', tenant: 'acme', slug: '' });
    expect(parseWorkflowId('user:ACME:bob')).toBeNull();
    expect(parseWorkflowId('something-else')).toBeNull();
  });
});
