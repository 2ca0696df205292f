import { FailureType } from '../vocabulary/failures.js';

/** The errcode a refused send is answered with: the Matrix refusal's own where it has one. */
const FAILURE_ERRCODES: Readonly<Record<string, string>> = {
  [FailureType.Forbidden]: 'M_FORBIDDEN',
  [FailureType.NotFound]: 'M_NOT_FOUND',
  [FailureType.BadRequest]: 'M_INVALID_PARAM',
  [FailureType.UserNotManaged]: 'OM_USER_NOT_MANAGED',
  [FailureType.RoomEncrypted]: 'OM_ROOM_ENCRYPTED',
};

/**
 * Why a send failed, as its sender is told: a failed send workflow, or an activity failure the
 * API met sending it itself (decision 0036). The innermost cause with a failure type decides.
 */
export function sendFailureOf(err: unknown): { errcode: string; message: string } {
  let cause = err as { type?: string; message?: string; cause?: unknown } | undefined;
  while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
  const errcode = (cause?.type && FAILURE_ERRCODES[cause.type]) || 'OM_UPSTREAM_FAILED';
  return { errcode, message: `the message could not be sent: ${cause?.message ?? String(err)}` };
}
