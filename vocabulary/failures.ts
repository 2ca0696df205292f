/**
 * Failure `type` strings of activity failures. They are the contract with workflows, retry
 * policies and operators searching the Temporal UI, so they never change and never depend on a
 * JS class name. Pure: safe to import from workflows.
 */
export const FailureType = {
  /** 429 M_LIMIT_EXCEEDED: retried after the server's retry_after_ms / Retry-After. */
  RateLimited: 'MatrixRateLimited',
  /** 401 M_UNKNOWN_TOKEN: the token is gone; the workflow re-authenticates, then retries. */
  UnknownToken: 'MatrixUnknownToken',
  /** 401 without a usable errcode (e.g. M_MISSING_TOKEN). */
  Unauthorized: 'MatrixUnauthorized',
  /** 403 M_FORBIDDEN and friends: permanent unless the state changes. */
  Forbidden: 'MatrixForbidden',
  /**
   * The homeserver refused the appservice token itself (M_UNKNOWN_TOKEN in the appservice identity
   * mode, where no per-user token exists to renew): MATRIX_AS_TOKEN does not match the registration.
   */
  AppserviceTokenRefused: 'MatrixAppserviceTokenRefused',
  /**
   * The account is deactivated on the homeserver and the identity mode cannot bring it back (the
   * appservice mode has no Admin API to reactivate with).
   */
  UserDeactivated: 'MatrixUserDeactivated',
  /** 404 / M_NOT_FOUND. */
  NotFound: 'MatrixNotFound',
  /** M_ROOM_IN_USE: the alias exists; resolve it and adopt the room. */
  RoomInUse: 'MatrixRoomInUse',
  /** M_USER_IN_USE: the localpart is taken. */
  UserInUse: 'MatrixUserInUse',
  /** 400 errors other than the above: our request is wrong, retrying cannot help. */
  BadRequest: 'MatrixBadRequest',
  /** 5xx from the homeserver: retried with backoff. */
  ServerError: 'MatrixServerError',
  /** The homeserver could not be reached at all (refused, reset, DNS, timeout): retried. */
  Unavailable: 'MatrixUnavailable',
  /** A stored credential could not be decrypted (wrong or missing key): needs an operator. */
  CredentialUndecryptable: 'CredentialUndecryptable',
  /** A managed room is gone from the homeserver; it is never silently replaced by an empty one. */
  RoomMissing: 'RoomMissing',
  /** The user is banned from the room's group (decision 0051): not a member while the ban holds. */
  UserBanned: 'UserBanned',
  /** The room was archived; it takes no more changes. */
  RoomArchived: 'RoomArchived',
  /** A change the room cannot take (e.g. adding a third user to a DM). */
  InvalidChange: 'InvalidChange',
  /** Power levels read back after a write differ from what was written (a concurrent writer). */
  PowerLevelsDiverged: 'PowerLevelsDiverged',
  /** A platform user is bound to another Matrix account, or the account to another user (adoption). */
  UserBindingConflict: 'UserBindingConflict',
  /** An adopted account the service would act as does not exist, or is deactivated: it is never created. */
  AccountMissing: 'AccountMissing',
  /** The service cannot act as this user (an adopted account outside what its identity mode reaches). */
  UserNotManaged: 'UserNotManaged',
  /** The entity already has another room, or the room already belongs to another entity. */
  RoomAdoptionConflict: 'RoomAdoptionConflict',
  /** The room cannot be taken over: not found, or the bot lacks membership or power there. */
  RoomNotAdoptable: 'RoomNotAdoptable',
  /** The homeserver could not deliver an invite to a user of another server. */
  InviteUndelivered: 'InviteUndelivered',
  /** The room is end-to-end encrypted: the service never sends plaintext into it (decision 0046). */
  RoomEncrypted: 'RoomEncrypted',
  /** The room's version has no knocking join rule (knock: 7, knock_restricted: 10; decision 0055). */
  KnockUnsupported: 'KnockUnsupported',
  /** No join request of that user in that room (decision 0055). */
  RequestNotFound: 'JoinRequestNotFound',
  /** The join request was decided already (or withdrawn): decisions are made once. */
  RequestDecided: 'JoinRequestDecided',
  /** The user is being (or was) offboarded (decision 0056): the service does not provision them again. */
  UserOffboarded: 'UserOffboarded',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Types that retrying the same call cannot fix. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = [
  FailureType.Forbidden,
  FailureType.NotFound,
  FailureType.RoomInUse,
  FailureType.UserInUse,
  FailureType.BadRequest,
  FailureType.UnknownToken,
  FailureType.AppserviceTokenRefused,
  FailureType.UserDeactivated,
  FailureType.Unauthorized,
  FailureType.CredentialUndecryptable,
  FailureType.RoomMissing,
  FailureType.RoomArchived,
  FailureType.InvalidChange,
  FailureType.UserBindingConflict,
  FailureType.AccountMissing,
  FailureType.UserNotManaged,
  FailureType.RoomAdoptionConflict,
  FailureType.RoomNotAdoptable,
  FailureType.InviteUndelivered,
  FailureType.RoomEncrypted,
  FailureType.KnockUnsupported,
  FailureType.RequestNotFound,
  FailureType.RequestDecided,
  FailureType.UserOffboarded,
];
