// The appservice pass of `npm test` (scripts/test.sh): the integration files that act as users,
// run a second time with MATRIX_IDENTITY_MODE=appservice against the stack's synapse-as (password
// login off, no admin user; only the appservice's tokens). Between them they cover provisioning,
// rooms and membership, sends, typing, receipts, history, the relay, message changes, user renames,
// attachments, encrypted rooms, the room list's unread counts, search, webhooks, the audit trail, join requests
// (knocks), moderation, the drift report, offboarding, group spaces and bans; the rest of the suite does
// not depend on the identity mode, or asserts admin-mode specifics (tokens.test.js: token renewal;
// key-rotation.test.js: stored tokens re-encrypted), and runs once, in admin mode.
// appservice-mode.test.js runs here only. See docs/decisions/0027-one-identity-adapter.md.
import base from './jest.config.js';

export const APPSERVICE_FILES = [
  'appservice-mode',
  'provision',
  'users-batch',
  'rooms',
  'relay-http',
  'relay-socket',
  'txn-per-user',
  'send-outbox',
  'message-changes',
  'user-rename',
  'media',
  'encrypted-rooms',
  'search',
  'webhooks',
  'room-list',
  'audit',
  'knocks',
  'moderation',
  'drift',
  'offboard',
  'group-spaces',
  'group-bans',
];

export default {
  ...base,
  testMatch: APPSERVICE_FILES.map((name) => `**/dist/test/integration/${name}.test.js`),
  testPathIgnorePatterns: ['/node_modules/'],
};
