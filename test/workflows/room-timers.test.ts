/**
 * An event room's durable timers (decision 0053) on Temporal's time-skipping test server (decision
 * 0054), the activities stubbed (room-stubs.ts): days pass in seconds, and each test reads what
 * the workflow did at which (server) time — a reminder once at its time, read-only after the end,
 * a moved event's timers moved with it, a cancel's notice then the archive, and a reopened room.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkflowHandle } from '@temporalio/client';
import type { PowerLevelsInput } from '../../activities/rooms.js';
import { roomStateQuery, type RoomChangeRequest, type RoomChangeResult, type RoomState } from '../../vocabulary/contract.js';
import { DEFAULT_EVENT_TIMER_POLICY, type EventSchedule, type EventTimerPolicy } from '../../vocabulary/event-time.js';
import type { EventNoticeInput } from '../../activities/rooms/event-time.js';
import type { RoomRecord } from '../../adapters/store/rooms.js';
import { accepted, storedRoom, stubRoom, type StubRoom } from './room-stubs.js';
import { withRoomWorkflow } from './stack-env.js';
import { timeSkippingEnv } from './time-skipping.js';

const stack = timeSkippingEnv();
const H = 3_600_000;
const M = 60_000;

const POLICY: EventTimerPolicy = {
  ...DEFAULT_EVENT_TIMER_POLICY,
  reminderMinutes: [24 * 60, 60],
  readOnlyAfterMinutes: 30,
  archiveAfterMinutes: null,
};

interface Notice {
  at: number;
  input: EventNoticeInput;
}

/** The room's stubs plus the event-time activities, each notice recorded with the server's time. */
function eventRoom(stored: RoomRecord | null = null): { stub: StubRoom; notices: Notice[]; recorded: EventSchedule[] } {
  const notices: Notice[] = [];
  const recorded: EventSchedule[] = [];
  const stub = stubRoom('event', stored, {
    eventTimerPolicy: async () => POLICY,
    recordEventTime: async (input) => {
      recorded.push(structuredClone(input.time));
    },
    postEventNotice: async (input) => {
      notices.push({ at: await stack.env.currentTimeMs(), input });
      return [`posted ${input.notice}`];
    },
    reopenRoom: async () => ({ alice: 'host', bob: 'participant' }),
  });
  return { stub, notices, recorded };
}

const change = async (h: WorkflowHandle, c: RoomChangeRequest): Promise<RoomChangeResult> => (await accepted(h, c))();
const iso = (ms: number): string => new Date(ms).toISOString();
const time = (startsAt: number, endsAt: number) => ({ startsAt: iso(startsAt), endsAt: iso(endsAt), timeZone: 'Europe/Berlin' });

/** Waits (real time) for `check` to hold: the work a fired timer starts may still be running when sleep returns. */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sleeps the server's clock to `at` (epoch ms). */
async function until(at: number): Promise<void> {
  const now = await stack.env.currentTimeMs();
  if (at > now) await stack.env.sleep(at - now);
}

const readOnlyWrites = (stub: StubRoom) =>
  stub.inputsOf<PowerLevelsInput>('syncPowerLevels').filter((i) => i.readOnly !== undefined);

const withEvent = (stub: StubRoom, body: (h: WorkflowHandle) => Promise<void>) =>
  withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 10 * M }, body);

describe('an event room, its timers on the time-skipping server', () => {
  it('posts each reminder once at its time, then makes the room read-only after the end', async () => {
    const { stub, notices } = eventRoom();
    await withEvent(stub, async (h) => {
      const t0 = await stack.env.currentTimeMs();
      const startsAt = t0 + 48 * H;
      const endsAt = startsAt + 2 * H;
      await change(h, { type: 'ensure', settings: { name: 'Summer meetup' }, time: time(startsAt, endsAt) });
      await change(h, { type: 'addMember', userSlug: 'alice', role: 'host' });

      await until(startsAt - 24 * H - M);
      expect(notices).toEqual([]);
      await until(startsAt - 24 * H + M);
      await eventually(() => notices.length === 1, 'the 24 h reminder');
      const first = notices[0]!;
      expect(first.input).toMatchObject({ notice: 'reminder', key: `reminder:1440@${startsAt - 24 * H}`, name: 'Summer meetup', timeZone: 'Europe/Berlin', startsAt });
      // Posted at its time (the server's clock), not before; within the minute slept past it.
      expect(first.at).toBeGreaterThanOrEqual(startsAt - 24 * H);
      expect(first.at).toBeLessThan(startsAt - 24 * H + 2 * M);

      await until(startsAt - H + M);
      await eventually(() => notices.length === 2, 'the 1 h reminder');
      expect(notices[1]!.input.key).toBe(`reminder:60@${startsAt - H}`);
      expect(readOnlyWrites(stub)).toEqual([]);

      await until(endsAt + 31 * M);
      await eventually(() => readOnlyWrites(stub).length === 1, 'read-only');
      expect(readOnlyWrites(stub)[0]).toMatchObject({ readOnly: true, members: { alice: 'host' } });
      const state = await h.query(roomStateQuery);
      expect(state.time).toMatchObject({ readOnly: true });
      expect(Object.values(state.time!.timers).every((t) => t.done)).toBe(true);

      // Days later: nothing fires twice.
      await until(endsAt + 72 * H);
      expect(notices).toHaveLength(2);
      expect(readOnlyWrites(stub)).toHaveLength(1);
    });
  });

  it('moving the event moves its timers: nothing at the old times, each at the new one', async () => {
    const { stub, notices, recorded } = eventRoom();
    await withEvent(stub, async (h) => {
      const t0 = await stack.env.currentTimeMs();
      const startsAt = t0 + 48 * H;
      await change(h, { type: 'ensure', time: time(startsAt, startsAt + H) });
      await until(startsAt - 24 * H + M);
      await eventually(() => notices.length === 1, 'the first 24 h reminder');

      // Moved a day later: the 24 h reminder (sent) is ahead again; the room shows the new plan.
      const moved = startsAt + 24 * H;
      await change(h, { type: 'ensure', time: time(moved, moved + H) });
      expect(recorded.at(-1)!.timers['reminder:1440']).toEqual({ dueAt: moved - 24 * H, done: false });
      const memo = (await h.describe()).memo as { timers?: Record<string, string> };
      expect(memo.timers).toEqual({
        'reminder:1440': iso(moved - 24 * H),
        'reminder:60': iso(moved - H),
        readOnly: iso(moved + H + 30 * M),
      });

      // The old 1 h reminder's time passes: nothing.
      await until(startsAt - H + M);
      expect(notices).toHaveLength(1);
      await until(moved - 24 * H + M);
      await eventually(() => notices.length === 2, 'the moved 24 h reminder');
      expect(notices[1]!.input.key).toBe(`reminder:1440@${moved - 24 * H}`);
      expect(notices[1]!.at).toBeGreaterThanOrEqual(moved - 24 * H);
      // Read-only follows the new end, not the old one.
      await until(startsAt + H + 31 * M);
      expect(readOnlyWrites(stub)).toEqual([]);
      await until(moved + H + 31 * M);
      await eventually(() => readOnlyWrites(stub).length === 1, 'read-only after the new end');
    });
  });

  it('an event moved to end later opens its read-only room again until the new end', async () => {
    const { stub } = eventRoom();
    await withEvent(stub, async (h) => {
      const t0 = await stack.env.currentTimeMs();
      await change(h, { type: 'ensure', time: time(t0 + H, t0 + 2 * H) });
      await until(t0 + 2 * H + 31 * M);
      await eventually(() => readOnlyWrites(stub).length === 1, 'read-only');
      const later = (await stack.env.currentTimeMs()) + 24 * H;
      await change(h, { type: 'ensure', time: time(later, later + H) });
      expect(readOnlyWrites(stub).map((i) => i.readOnly)).toEqual([true, false]);
      await until(later + H + 31 * M);
      await eventually(() => readOnlyWrites(stub).length === 3, 'read-only again');
      expect(readOnlyWrites(stub)[2]!.readOnly).toBe(true);
    });
  });

  it('cancelling posts the notice, then archives; no timer fires after it; unarchive reopens the same room', async () => {
    const { stub, notices } = eventRoom();
    await withEvent(stub, async (h) => {
      const t0 = await stack.env.currentTimeMs();
      const startsAt = t0 + 48 * H;
      await change(h, { type: 'ensure', settings: { name: 'Summer meetup' }, time: time(startsAt, startsAt + H) });
      await change(h, { type: 'addMember', userSlug: 'alice', role: 'host' });
      const cancelled = await change(h, { type: 'cancel', reason: 'The venue is closed.' });
      expect(cancelled.actions).toEqual(['posted cancelled', 'archived']);
      expect(notices.map((n) => n.input)).toMatchObject([{ notice: 'cancelled', reason: 'The venue is closed.', name: 'Summer meetup' }]);
      // Notice first, then the archive.
      const order = stub.types().filter((t) => t === 'postEventNotice' || t === 'archiveRoom');
      expect(order).toEqual(['postEventNotice', 'archiveRoom']);
      // The archived run ends: nothing is left to wait for.
      const done = (await h.result()) as RoomState;
      expect(done).toMatchObject({ archived: true, time: { cancelled: true, timers: {} } });
      expect(notices).toHaveLength(1);
    });
    // A new run (as update-with-start makes one): loadRoom reads it archived; unarchive brings the members back.
    const { stub: reopened } = eventRoom({ ...storedRoom('x', 'event', 'meetup', {}), status: 'archived' });
    await withEvent(reopened, async (h) => {
      const result = await change(h, { type: 'unarchive' });
      expect(result.roomId).toBe('!known:test');
      expect(reopened.types()).toContain('reopenRoom');
      const joined = reopened.inputsOf<{ userSlug: string }>('prepareMember').map((i) => i.userSlug).sort();
      expect(joined).toEqual(['alice', 'bob']);
      expect((await h.query(roomStateQuery)).archived).toBe(false);
      // Open for changes again (an archived room refuses them: RoomArchived).
      expect(await change(h, { type: 'addMember', userSlug: 'carol', role: 'participant' })).toMatchObject({ roomId: '!known:test' });
    });
  });
});
