/** The identity adapter's refusals about adopted accounts (docs/decisions/0029), the same in both modes. */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { AccountState } from './types.js';

/** The service cannot act as this account: only the user's own Matrix client can. */
export function notManaged(userId: string, slug: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.UserNotManaged,
    message: `the service cannot act as ${userId} (${slug}): only their own Matrix client can`,
    nonRetryable: true,
  });
}

/** An adopted account that is gone or deactivated: never created or reactivated by the service. */
export function adoptedAccountMissing(userId: string, state: Exclude<AccountState, 'active'>): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.AccountMissing,
    message: `the adopted account ${userId} ${state === 'deactivated' ? 'is deactivated' : 'does not exist'}; the service never creates or reactivates adopted accounts`,
    nonRetryable: true,
  });
}
