/**
 * The spec says of request bodies what the routes do: a body the spec calls invalid (by an
 * independent JSON Schema checker) is refused with 400, a valid one gets past validation — shown
 * by reaching the stand-in backend of the service-less app, a 500.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { apiOperations, openApiDocument } from '../../api/spec/openapi.js';
import { serviceToken } from '../helpers/api.js';
import { isValid } from '../helpers/json-schema.js';
import { serviceLessApp } from '../helpers/unit-app.js';

type Json = { [k: string]: unknown };

const { app, config } = serviceLessApp();
const doc = openApiDocument();
const token = await serviceToken(config);

const PARAMS: Record<string, string> = { tenant: 'acme', kind: 'event', slug: 'meetup', userSlug: 'alice', eventId: '$abc', user: 'alice' };
/** A valid body per operation (the relay's name the user, as a service JWT must). */
const VALID: Record<string, Json> = {
  provisionUser: { slug: 'alice', displayName: 'Alice', matrixUserId: '@alice:example.org' },
  offboardUser: { erase: true, reason: 'account deleted on the platform' },
  provisionUsersBatch: { users: [{ slug: 'alice', displayName: 'Alice' }] },
  setMembers: {
    members: [
      { userSlug: 'alice', role: 'host' },
      { userSlug: 'bob', displayName: 'Bob' },
    ],
  },
  renameUser: { newSlug: 'alicia' },
  muteMember: { actorSlug: 'hana', userSlug: 'alice', durationSeconds: 600 },
  putEventTimers: {
    reminderMinutes: [1440, 60],
    readOnlyAfterMinutes: 30,
    archiveAfterMinutes: null,
    locale: 'de-DE',
    templates: { reminder: '{name} beginnt {start}.', cancelled: '{name} fällt aus.{reason}' },
  },
  cancelEvent: { reason: 'The venue is closed.' },
  banFromGroup: { reason: 'spam' },
  putSpaceSettings: { eventRooms: 'group-members' },
  putWebhook: { url: 'https://platform.example/hooks', secret: 'a-long-enough-secret', eventTypes: ['message.posted'] },
  ensureRoom: {
    name: 'Meetup',
    topic: 'Summer',
    visibility: 'public',
    adopt: { alias: '#meetup:example.org' },
    prune: true,
    knock: true,
    startsAt: '2030-05-01T18:00:00+02:00',
    endsAt: '2030-05-01T20:00:00+02:00',
    timeZone: 'Europe/Berlin',
  },
  setMember: { role: 'host', displayName: 'Alice' },
  renameRoom: { newSlug: 'meetup-2027' },
  ensureDm: { users: ['alice', 'bob'], encrypted: true, name: 'A and B' },
  sendPlatformEvent: { type: 'chat.event.member.add', data: { slug: 'meetup', userSlug: 'bob', role: 'speaker' } },
  sendMessage: { txnId: 'txn-1', body: 'hello', msgtype: 'm.notice', html: '<b>hello</b>', replyTo: '$q', userSlug: 'alice' },
  setTyping: { typing: true, userSlug: 'alice' },
  sendReceipt: { eventId: '$abc', userSlug: 'alice' },
  deleteMessage: { reason: 'spam', userSlug: 'alice' },
  addReaction: { key: '👍', userSlug: 'alice' },
  removeReaction: { key: '👍', userSlug: 'alice' },
  decideJoinRequest: { approve: false, reason: 'not this time', decidedBy: 'mod-1', role: 'participant' },
};
/** The platform events, one valid body per type (to cover every variant of the spec's oneOf). */
const EVENT_DATA: Record<string, Json> = {
  'chat.group.created': { slug: 'g', name: 'G', visibility: 'private' },
  'chat.event.updated': { slug: 'meetup', topic: 'T', groupSlug: 'hikers' },
  'chat.event.deleted': { slug: 'meetup' },
  'chat.group.member.add': { slug: 'g', userSlug: 'bob', role: 'owner', displayName: 'Bob' },
  'chat.event.member.remove': { slug: 'meetup', userSlug: 'bob' },
  'chat.group.member.role': { slug: 'g', userSlug: 'bob', role: 'admin' },
  'chat.event.renamed': { slug: 'meetup', newSlug: 'meetup-2027' },
  'chat.dm.created': { users: ['bob', 'alice'] },
};
/** Rules the spec states in words only: a body it calls valid may still be refused for these. */
const CROSS_FIELD =
  /encryption can only be asked for DMs|a DM cannot be public|role "[^"]*" is not one of|with a service token, name the user|startsAt, endsAt and timeZone go together|only an event has a start|must be an ISO 8601 date-time|must be an IANA time zone|must not be before|lasts at most|must not come before|is not a BCP 47 language tag/;

const bodyOps = apiOperations().filter((op) => op.body && op.path.startsWith('/v1/') && VALID[op.operationId]);

async function send(operationId: string, body: unknown): Promise<{ status: number; error: string }> {
  const op = apiOperations().find((o) => o.operationId === operationId)!;
  const path = op.path.replace(/\/:([A-Za-z]+)/g, (_m, name: string) => `/${PARAMS[name]!}`);
  const res = await app.request(path, {
    method: op.method.toUpperCase(),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { error?: string };
  return { status: res.status, error: answer.error ?? '' };
}

/**
 * The route agrees with the spec: a body the spec calls invalid gets a 400; one it calls valid
 * passes validation (500: the route went on to a service this app does not have) or is refused only for a
 * rule the spec states in words (CROSS_FIELD).
 */
function expectAgreement(what: string, valid: boolean, answer: { status: number; error: string }): void {
  const agrees = valid
    ? answer.status === 500 || (answer.status === 400 && CROSS_FIELD.test(answer.error))
    : answer.status === 400;
  if (!agrees)
    throw new Error(
      `${what}: spec says ${valid ? 'valid' : 'invalid'}, route answered ${answer.status} ${answer.error}`,
    );
}

const bodySchema = (operationId: string): Json => {
  const op = apiOperations().find((o) => o.operationId === operationId)!;
  return op.body!.schema;
};

describe('request bodies', () => {
  it('covers every operation of the platform API that takes a body', () => {
    // JSON bodies; a file upload's body (`contentType`) is the file, checked by its own tests.
    const withBody = apiOperations().filter((op) => op.body && !op.body.contentType && op.path.startsWith('/v1/'));
    expect(withBody.map((op) => op.operationId).sort()).toEqual(Object.keys(VALID).sort());
  });

  it.each(bodyOps.map((op) => op.operationId))(
    '%s: the valid sample is valid per the spec and gets past validation',
    async (id) => {
      expect(isValid(bodySchema(id), VALID[id], doc)).toBe(true);
      expect(await send(id, VALID[id])).toEqual({ status: 500, error: 'internal error' });
    },
  );

  it.each(Object.entries(EVENT_DATA))('event %s: valid per the spec, and gets past validation', async (type, data) => {
    expect(isValid(bodySchema('sendPlatformEvent'), { type, data }, doc)).toBe(true);
    expect(await send('sendPlatformEvent', { type, data })).toEqual({ status: 500, error: 'internal error' });
  });

  it.each(bodyOps.map((op) => op.operationId))(
    '%s: leaving out a required field is invalid per the spec and a 400 naming it',
    async (id) => {
      // The events body is a oneOf whose every variant requires both.
      const required =
        id === 'sendPlatformEvent' ? ['type', 'data'] : ((bodySchema(id).required as string[] | undefined) ?? []);
      for (const field of required) {
        const body = { ...VALID[id] };
        delete body[field];
        expect(isValid(bodySchema(id), body, doc)).toBe(false);
        const answer = await send(id, body);
        expect(answer.status).toBe(400);
        expect(answer.error).toContain(`"${field}"`);
      }
    },
  );

  it.each(Object.entries(EVENT_DATA))(
    'event %s: leaving out a required data field is a 400 naming it',
    async (type, data) => {
      const variants = bodySchema('sendPlatformEvent').oneOf as { properties: { type: Json; data: Json } }[];
      const variant = variants.find((v) => v.properties.type.const === type)!;
      const required = variant.properties.data.required as string[];
      expect(required.length).toBeGreaterThan(0);
      for (const field of required) {
        const rest = { ...data };
        delete rest[field];
        expect(isValid(bodySchema('sendPlatformEvent'), { type, data: rest }, doc)).toBe(false);
        const answer = await send('sendPlatformEvent', { type, data: rest });
        expect(answer.status).toBe(400);
        expect(answer.error).toMatch(new RegExp(`"${field}"|${field} `));
      }
    },
  );

  /** Values that probe each grammar: blanks, control characters, lengths around the limits, wrong types. */
  const PROBES: unknown[] = [
    ...[
      '',
      ' ',
      '   ',
      'a\u0000b',
      'a\tb',
      'x\u007f',
      'al ice',
      'a:b',
      '-a',
      'a.b_c-D',
      'a~b',
      '$x',
      '$',
      'nope',
      'txn~1.2',
    ],
    ...[16, 32, 33, 64, 65, 100, 101, 255, 256, 257, 1001, 4096, 4097, 16_000, 16_001].map((n) => 'x'.repeat(n)),
    ...[
      'host',
      'owner',
      'admin',
      'speaker',
      'member',
      'guest',
      'public',
      'private',
      'm.emote',
      'm.image',
      'alice',
      'bob',
    ],
    ...['chat.event.created', 'chat.dm.created', 'chat.nope', true, false, 0, 1, null, [], {}],
    ...[['alice'], ['alice', 'bob'], ['alice', 'alice'], ['alice', 'b c'], ['a', 'b', 'c'], [1, 2], { slug: 'meetup' }],
    // Matrix ids and the shapes of `adopt`.
    ...[
      '@alice:example.org',
      '@a:b:c',
      '@:x',
      '@a:[::1]:8448',
      '@a b:x',
      '#room:example.org',
      '!abc',
      '!abc:example.org',
    ],
    ...[
      { roomId: '!abc' },
      { alias: '#a:b' },
      { roomId: '!a', alias: '#a:b' },
      { alias: 'a:b' },
      { roomId: 1 },
      { room: '!a' },
    ],
  ];
  const probe = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 12 }), fc.constantFrom(...PROBES));

  it.each(bodyOps.map((op) => op.operationId))(
    '%s: each field set to each probe is refused with 400 exactly when the spec calls it invalid',
    async (id) => {
      const schema = bodySchema(id);
      for (const field of [...Object.keys(VALID[id]!), 'unexpected']) {
        for (const value of PROBES) {
          const body = { ...VALID[id], [field]: value };
          const answer = await send(id, body);
          const valid = isValid(schema, body, doc);
          expectAgreement(`${id} with ${field}=${JSON.stringify(value)}`, valid, answer);
        }
      }
    },
  );

  it.each(Object.entries(EVENT_DATA))(
    'event %s: each data field set to each probe is refused with 400 exactly when the spec calls it invalid',
    async (type, data) => {
      const schema = bodySchema('sendPlatformEvent');
      for (const field of [...Object.keys(data), 'unexpected']) {
        for (const value of PROBES) {
          const body = { type, data: { ...data, [field]: value } };
          const answer = await send('sendPlatformEvent', body);
          const valid = isValid(schema, body, doc);
          expectAgreement(`${type} with ${field}=${JSON.stringify(value)}`, valid, answer);
        }
      }
    },
  );

  it.each(bodyOps.map((op) => op.operationId))(
    '%s: any mutated body is refused with 400 exactly when the spec calls it invalid',
    async (id) => {
      const schema = bodySchema(id);
      const fields = [...Object.keys(VALID[id]!), 'unexpected'];
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.constantFrom(...fields), fc.option(probe, { nil: undefined }), { minKeys: 1 }),
          async (changes) => {
            const body: Json = { ...VALID[id] };
            for (const [k, v] of Object.entries(changes)) {
              if (v === undefined) delete body[k];
              else body[k] = v;
            }
            const answer = await send(id, body);
            if (!isValid(schema, body, doc)) {
              expect(answer.status).toBe(400);
            } else if (answer.status === 400) {
              expect(answer.error).toMatch(CROSS_FIELD);
            } else {
              expect(answer).toEqual({ status: 500, error: 'internal error' });
            }
          },
        ),
        { numRuns: 200 },
      );
    },
  );
});
