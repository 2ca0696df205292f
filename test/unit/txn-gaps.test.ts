import { describe, expect, it } from '@jest/globals';
import {
  createTxnGapWatch,
  QUIET_AFTER_EMPTY_SWEEP_MS,
  SWEEP_GIVE_UP_MS,
  type GapVerdict,
} from '../../api/relay/txn-gaps.js';

function watch(enabled = true, seed?: () => Promise<number | null>) {
  let t = 1_000_000;
  const w = createTxnGapWatch({ enabled, now: () => t, ...(seed ? { seed } : {}) });
  const actions = async (...ids: (number | string)[]): Promise<string[]> => {
    const out: string[] = [];
    for (const id of ids) {
      const v: GapVerdict = await w.admit(String(id));
      out.push(`${id}:${v.action}`);
    }
    return out;
  };
  return { w, actions, advance: (ms: number) => (t += ms) };
}

describe('the transaction gap watch', () => {
  it('stores consecutive ids, repeats and ids that are not numbers without a second look', async () => {
    const { actions } = watch();
    expect(await actions(1, 2, 3, 3, 2, 'tabc', 4)).toEqual([
      '1:store',
      '2:store',
      '3:store',
      '3:store',
      '2:store',
      'tabc:store',
      '4:store',
    ]);
  });

  it('the first id seen is a start, not a gap', async () => {
    const { actions } = watch();
    expect(await actions(500, 501)).toEqual(['500:store', '501:store']);
  });

  it('refuses the transaction that shows a gap once, and reports what the sweep brought back', async () => {
    const { w, actions } = watch();
    await actions(10);
    expect(await w.admit('13')).toEqual({ action: 'refuse', missing: [11, 12] });
    // The homeserver's recovery: what it held back, in order, then the refused one.
    expect(await actions(11, 12)).toEqual(['11:store', '12:store']);
    expect(await w.admit('13')).toEqual({ action: 'store', settled: { recovered: [11, 12], missing: [11, 12] } });
    expect(await actions(14, 15)).toEqual(['14:store', '15:store']);
    expect(w.counts).toEqual({ sweeps: 1, recovered: 2 });
  });

  it('refuses newer transactions while the refused one is away, until the sweep is given up', async () => {
    const { w, actions, advance } = watch();
    await actions(1);
    expect(await actions(3, 4)).toEqual(['3:refuse', '4:refuse']);
    expect(await actions(2, 3)).toEqual(['2:store', '3:store']);
    expect(await actions(4)).toEqual(['4:store']);
    // A refused transaction that never comes back (another instance got it) ends the sweep.
    expect(await actions(7)).toEqual(['7:refuse']);
    advance(SWEEP_GIVE_UP_MS);
    expect(await actions(8, 9, 11)).toEqual(['8:store', '9:store', '11:store']);
    advance(QUIET_AFTER_EMPTY_SWEEP_MS);
    expect(await w.admit('12')).toEqual({ action: 'refuse', missing: [10, 10] });
  });

  it('after a sweep that brought nothing (another appservice uses the ids), leaves gaps alone for a while, then sweeps them together', async () => {
    const { w, actions, advance } = watch();
    await actions(1);
    expect(await actions(5)).toEqual(['5:refuse']);
    expect(await w.admit('5')).toEqual({ action: 'store', settled: { recovered: [], missing: [2, 4] } });
    expect(await actions(7, 8, 10, 11)).toEqual(['7:store', '8:store', '10:store', '11:store']);
    advance(QUIET_AFTER_EMPTY_SWEEP_MS);
    // The first transaction after the quiet period sweeps every gap noticed during it.
    expect(await w.admit('12')).toEqual({ action: 'refuse', missing: [6, 9] });
    expect(await actions(6)).toEqual(['6:store']);
    // It brought something back: gaps are swept at once again.
    expect(await w.admit('12')).toEqual({ action: 'store', settled: { recovered: [6], missing: [6, 9] } });
    expect(await actions(14)).toEqual(['14:refuse']);
  });

  it('starts from the highest id stored before this process started, so a gap across a restart is seen', async () => {
    const { actions } = watch(true, async () => 41);
    expect(await actions(43)).toEqual(['43:refuse']);
    const failing = watch(true, async () => {
      throw new Error('database down');
    });
    expect(await failing.actions(43, 44)).toEqual(['43:store', '44:store']);
  });

  it('takes a much lower id for a homeserver that numbers again from the start', async () => {
    const { actions } = watch();
    expect(await actions(5000, 5001, 1, 2, 3)).toEqual(['5000:store', '5001:store', '1:store', '2:store', '3:store']);
    expect(await actions(5)).toEqual(['5:refuse']);
  });

  it('never refuses when switched off (RELAY_GAP_SWEEP=false)', async () => {
    const { actions } = watch(false);
    expect(await actions(1, 5, 9, 30, 31)).toEqual(['1:store', '5:store', '9:store', '30:store', '31:store']);
  });
});
