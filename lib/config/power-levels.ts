/** `POWER_LEVEL_MODE` and `POWER_LEVELS`: the role → power level table. */
import { DEFAULT_POWER_LEVELS, SIMPLE_POWER_LEVELS, type PowerLevelTable } from '../../vocabulary/roles.js';
import { ConfigError, optional, type Env } from './read.js';

export function powerLevels(env: Env): PowerLevelTable {
  const mode = optional(env, 'POWER_LEVEL_MODE', 'default');
  if (mode !== 'default' && mode !== 'simple')
    throw new ConfigError('POWER_LEVEL_MODE', 'must be "default" or "simple"');
  const base = mode === 'simple' ? SIMPLE_POWER_LEVELS : DEFAULT_POWER_LEVELS;
  const raw = env.POWER_LEVELS?.trim();
  if (!raw) return base;
  let patch: unknown;
  try {
    patch = JSON.parse(raw);
  } catch {
    throw new ConfigError('POWER_LEVELS', 'must be JSON like {"event":{"host":50}}');
  }
  const table: Record<string, Record<string, number>> = {
    event: { ...base.event },
    group: { ...base.group },
    dm: { ...base.dm },
  };
  for (const [kind, roles] of Object.entries(patch as Record<string, unknown>)) {
    const target = table[kind];
    if (!target || !roles || typeof roles !== 'object')
      throw new ConfigError('POWER_LEVELS', `has an unknown room kind "${kind}"`);
    for (const [role, level] of Object.entries(roles as Record<string, unknown>)) {
      if (!(role in target)) throw new ConfigError('POWER_LEVELS', `has an unknown ${kind} role "${role}"`);
      if (!Number.isInteger(level) || (level as number) < 0 || (level as number) > 100) {
        throw new ConfigError('POWER_LEVELS', `${kind}.${role} must be an integer from 0 to 100`);
      }
      target[role] = level as number;
    }
  }
  return table as unknown as PowerLevelTable;
}
