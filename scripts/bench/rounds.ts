/**
 * Rounds of a comparison with the order of the sides alternating (decision 0061): each side's
 * rounds with their CPU, and Synapse's own counters summed over them.
 */
import type { Track } from './provisioning.js';
import { combineRounds, type Measurement, type Round } from './stats.js';
import { addSynapseCpu, NO_SYNAPSE_CPU, synapseCpu, synapseCpuPerOp, synapseSpent, type SynapseCpu, type SynapseCpuPerOp } from './synapse-cpu.js';

export type Which = 'direct' | 'ours';

/** Round k's order: direct first in the first round, ours first in the second, and so on. */
export const sideOrder = (k: number): readonly Which[] => (k % 2 === 0 ? ['direct', 'ours'] : ['ours', 'direct']);

/** One side's rounds so far, and what Synapse spent during them. */
export interface SideRounds {
  rounds: Round[];
  synapse: SynapseCpu;
}
export const noRounds = (): SideRounds => ({ rounds: [], synapse: NO_SYNAPSE_CPU });

/** Runs one side of one round (its CPU tracked, Synapse's counters read around it) and adds it to `side`. */
export async function timedRound<T extends { m: Measurement; latenciesMs: number[] }>(
  track: Track,
  homeserverUrl: string,
  side: SideRounds,
  run: () => Promise<T>,
): Promise<T> {
  const before = await synapseCpu(homeserverUrl);
  const { value, cores } = await track(run);
  side.synapse = addSynapseCpu(side.synapse, synapseSpent(before, await synapseCpu(homeserverUrl)));
  side.rounds.push({ m: value.m, latenciesMs: value.latenciesMs, cores });
  return value;
}

/** A side's rounds together (see combineRounds), with Synapse's CPU per operation over all of them. */
export function sideTotals(side: SideRounds): { m: Measurement; cores: Record<string, number>; synapse: SynapseCpuPerOp } {
  const { m, cores } = combineRounds(side.rounds);
  return { m, cores, synapse: synapseCpuPerOp(NO_SYNAPSE_CPU, side.synapse, m.ops) };
}

/** "23.1, 18.1, 18.7": each round's rate. */
export const roundRates = (side: SideRounds): string => side.rounds.map((r) => r.m.rate.toFixed(1)).join(', ');
