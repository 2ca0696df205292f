/**
 * The chat's types, as one user: a room's messages, attachments, the room list, search. Generated
 * from the spec's schemas (openapi-types.ts); re-exported by types.ts.
 */
import type { components, operations } from './openapi-types.js';

type Schemas = components['schemas'];
type JsonBodyOf<C> = C extends { 'application/json': infer B } ? B : never;
type RequestBody<Op extends keyof operations> = JsonBodyOf<NonNullable<operations[Op]['requestBody']>['content']>;

// --- a room's messages, as one user: /v1/tenants/{tenant}/rooms/{kind}/{slug}/messages|typing|receipts ---

/** `txnId`: yours (a UUID), one message per id and user however often sent; `userSlug` with a service JWT only. */
export type SendMessageInput = RequestBody<'sendMessage'>;
/** Sent (`eventId`), or queued: follow `operation`. */
export type MessageAnswer = Schemas['MessageSent'] | Schemas['MessageQueued'];
export type TypingInput = RequestBody<'setTyping'>;
export type ReceiptInput = RequestBody<'sendReceipt'>;
/** `before`: the `next` of the previous page; `limit` 1–100 (default 20); `userSlug` with a service JWT only. */
export type HistoryQuery = NonNullable<operations['roomHistory']['parameters']['query']>;
export type HistoryPage = Schemas['HistoryPage'];
/** `txnId` and `filename` required; `userSlug` with a service JWT only. */
export type MediaUploadQuery = NonNullable<operations['uploadMedia']['parameters']['query']>;
export type MediaSent = Schemas['MediaSent'];
/** The user's rooms, most recently active first, each with its unread count (null: unknown now) and last message. */
export type RoomList = Schemas['RoomList'];
/** A deletion's `reason` (optional); `userSlug` with a service JWT only. */
export type DeleteMessageInput = RequestBody<'deleteMessage'>;
export type MessageDeleted = Schemas['MessageDeleted'];
/** The reaction's `key` (usually one emoji); `userSlug` with a service JWT only. */
export type ReactionInput = RequestBody<'addReaction'>;
export type ReactionAdded = Schemas['ReactionAdded'];
export type ReactionRemoved = Schemas['ReactionRemoved'];

// --- search, as one user: /v1/tenants/{tenant}/me/search ---

/** `q` required; `room` (`kind/slug` or a room id) and `sender` (slug or Matrix id) repeat; `from`/`to` ISO 8601 or ms; `cursor`: the `next` of the previous page. */
export type SearchQuery = NonNullable<operations['search']['parameters']['query']>;
/** Best match first; `highlights` of each result are [start, end) offsets of its `body`, to mark as text. */
export type SearchPage = Schemas['SearchPage'];
export type SearchResult = Schemas['SearchResult'];
