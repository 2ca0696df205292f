import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { classifyMatrixError, MatrixHttpError, MatrixUnreachableError, toActivityFailure } from '../../adapters/matrix/errors.js';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../../vocabulary/failures.js';

describe('failure type strings', () => {
  it('are the stable strings workflows, retry policies and operators rely on', () => {
    expect(FailureType).toEqual({
      RateLimited: 'MatrixRateLimited',
      UnknownToken: 'MatrixUnknownToken',
      AppserviceTokenRefused: 'MatrixAppserviceTokenRefused',
      UserDeactivated: 'MatrixUserDeactivated',
      UserBanned: 'UserBanned',
      Unauthorized: 'MatrixUnauthorized',
      Forbidden: 'MatrixForbidden',
      NotFound: 'MatrixNotFound',
      RoomInUse: 'MatrixRoomInUse',
      UserInUse: 'MatrixUserInUse',
      BadRequest: 'MatrixBadRequest',
      ServerError: 'MatrixServerError',
      Unavailable: 'MatrixUnavailable',
      CredentialUndecryptable: 'CredentialUndecryptable',
      RoomMissing: 'RoomMissing',
      RoomArchived: 'RoomArchived',
      InvalidChange: 'InvalidChange',
      PowerLevelsDiverged: 'PowerLevelsDiverged',
      UserBindingConflict: 'UserBindingConflict',
      AccountMissing: 'AccountMissing',
      UserNotManaged: 'UserNotManaged',
      UserOffboarded: 'UserOffboarded',
      RoomAdoptionConflict: 'RoomAdoptionConflict',
      RoomNotAdoptable: 'RoomNotAdoptable',
      InviteUndelivered: 'InviteUndelivered',
      RoomEncrypted: 'RoomEncrypted',
      KnockUnsupported: 'KnockUnsupported',
      RequestNotFound: 'JoinRequestNotFound',
      RequestDecided: 'JoinRequestDecided',
    });
  });
});

describe('classifyMatrixError', () => {
  const cases: [number, string | undefined, string, boolean][] = [
    [429, 'M_LIMIT_EXCEEDED', 'MatrixRateLimited', false],
    [401, 'M_UNKNOWN_TOKEN', 'MatrixUnknownToken', true],
    [401, 'M_MISSING_TOKEN', 'MatrixUnauthorized', true],
    [403, 'M_FORBIDDEN', 'MatrixForbidden', true],
    [404, 'M_NOT_FOUND', 'MatrixNotFound', true],
    [400, 'M_ROOM_IN_USE', 'MatrixRoomInUse', true],
    [400, 'M_USER_IN_USE', 'MatrixUserInUse', true],
    [400, 'M_INVALID_PARAM', 'MatrixBadRequest', true],
    [500, 'M_UNKNOWN', 'MatrixServerError', false],
    [502, undefined, 'MatrixServerError', false],
    [503, undefined, 'MatrixServerError', false],
    [429, undefined, 'MatrixRateLimited', false],
    [404, undefined, 'MatrixNotFound', true],
  ];
  it.each(cases)('%i %s → %s (non-retryable: %s)', (status, errcode, type, nonRetryable) => {
    const c = classifyMatrixError({ status, errcode });
    expect(c.type).toBe(type);
    expect(c.nonRetryable).toBe(nonRetryable);
    expect(NON_RETRYABLE_FAILURE_TYPES.includes(c.type)).toBe(nonRetryable);
  });

  it("retries a rate limit after the server's retry_after_ms", () => {
    expect(classifyMatrixError({ status: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 2345 }).nextRetryDelayMs).toBe(2345);
    expect(classifyMatrixError({ status: 429, errcode: 'M_LIMIT_EXCEEDED' }).nextRetryDelayMs).toBe(1000);
    expect(classifyMatrixError({ status: 403, errcode: 'M_FORBIDDEN' }).nextRetryDelayMs).toBeUndefined();
  });
});

describe('toActivityFailure', () => {
  it('keeps the server back-off on rate-limit failures, in milliseconds', () => {
    const f = toActivityFailure(new MatrixHttpError(429, 'M_LIMIT_EXCEEDED', 'Too Many Requests', 1500, 'PUT', '/x'));
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('MatrixRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(1500);
  });

  it('recognises matrix-js-sdk errors by shape, not by class name', () => {
    const sdkError = Object.assign(new Error('M_FORBIDDEN: nope'), { name: 'MatrixError', errcode: 'M_FORBIDDEN', httpStatus: 403, data: {} });
    const f = toActivityFailure(sdkError);
    expect(f.type).toBe('MatrixForbidden');
    expect(f.nonRetryable).toBe(true);
  });

  it('turns network failures into retryable MatrixUnavailable', () => {
    const f = toActivityFailure(new MatrixUnreachableError('GET /x: homeserver unreachable (ECONNREFUSED)'));
    expect(f.type).toBe('MatrixUnavailable');
    expect(f.nonRetryable).toBe(false);
  });
});
