/** Offboarding users (`OFFBOARD_*`, decision 0056). */
import { ConfigError, integer, optional, type Env } from './read.js';

export type AdoptedOffboarding = 'rooms' | 'full';

export interface OffboardingConfig {
  /** How long an erasure waits after deactivation; cancelling inside it restores the account. */
  eraseGraceSeconds: number;
  /**
   * What offboarding does to an adopted account (one the service did not create): `rooms` (the
   * default) only removes it from the managed rooms; `full` also locks, deactivates and erases it.
   */
  adoptedAccounts: AdoptedOffboarding;
}

/** At most a year: a durable timer longer than that is more likely a mistake than a policy. */
export const ERASE_GRACE_MAX_SECONDS = 31_536_000;

export function offboarding(env: Env): OffboardingConfig {
  const adopted = optional(env, 'OFFBOARD_ADOPTED_ACCOUNTS', 'rooms');
  if (adopted !== 'rooms' && adopted !== 'full')
    throw new ConfigError('OFFBOARD_ADOPTED_ACCOUNTS', 'must be rooms or full');
  return {
    eraseGraceSeconds: integer(env, 'OFFBOARD_ERASE_GRACE_SECONDS', 2_592_000, 0, ERASE_GRACE_MAX_SECONDS),
    adoptedAccounts: adopted,
  };
}
