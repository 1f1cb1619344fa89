import {
  PING_TIMEOUT_MS,
  READ_IDLE_MS,
  SessionHealth,
  chooseSession,
  healthAction,
  idleToClose,
  type SessionView,
} from './http2-policy.ts';

const s = (active: number, maxStreams = 100, usable = true): SessionView => ({
  usable,
  active,
  maxStreams,
});

describe('chooseSession', () => {
  it('opens the first session, then packs streams onto it', () => {
    expect(chooseSession([])).toBe('open');
    expect(chooseSession([s(0)])).toBe(0);
    expect(chooseSession([s(99)])).toBe(0);
  });

  it('skips sessions that are full or no longer usable (GOAWAY, closed)', () => {
    expect(chooseSession([s(100), s(3)])).toBe(1);
    expect(chooseSession([s(0, 100, false), s(5)])).toBe(1);
    expect(chooseSession([s(0, 100, false)])).toBe('open');
  });

  it('opens another session when every one is at the server limit, up to the cap', () => {
    expect(chooseSession([s(5, 5)], 2)).toBe('open');
    expect(chooseSession([s(5, 5), s(5, 5)], 2)).toBe(0);
    // Beyond the cap, the least loaded one (nghttp2 queues the stream there).
    expect(chooseSession([s(7, 5), s(6, 5)], 2)).toBe(1);
  });
});

describe('idleToClose', () => {
  it('keeps one idle session when nothing is in flight', () => {
    expect(idleToClose([s(0)])).toEqual([]);
    expect(idleToClose([s(0), s(0)])).toEqual([1]);
  });

  it('closes idle sessions while another is busy', () => {
    expect(idleToClose([s(3), s(0)])).toEqual([1]);
    expect(idleToClose([s(0), s(2), s(0)])).toEqual([0, 2]);
  });

  it('ignores sessions already unusable', () => {
    expect(idleToClose([s(0, 100, false), s(0)])).toEqual([]);
  });
});

describe('healthAction', () => {
  it('pings after READ_IDLE_MS of silence and closes when the ping is not answered', () => {
    expect(healthAction(0, undefined, READ_IDLE_MS - 1)).toBe('none');
    expect(healthAction(0, undefined, READ_IDLE_MS)).toBe('ping');
    expect(healthAction(0, 30_000, 30_000 + PING_TIMEOUT_MS - 1)).toBe('none');
    expect(healthAction(0, 30_000, 30_000 + PING_TIMEOUT_MS)).toBe('close');
  });
});

describe('SessionHealth', () => {
  function world() {
    const clock = { now: 0 };
    const pings: (() => void)[] = [];
    const kills: Error[] = [];
    const health = new SessionHealth(
      (onAck) => pings.push(onAck),
      (error) => kills.push(error),
      () => clock.now,
    );
    return { clock, pings, kills, health };
  }

  it('does not ping a session that keeps reading', () => {
    const { clock, pings, health } = world();
    for (clock.now = 0; clock.now < 120_000; clock.now += 5_000) {
      health.sawRead();
      health.tick();
    }
    expect(pings).toHaveLength(0);
  });

  it('pings a silent session once, and an ACK resets the clock', () => {
    const { clock, pings, kills, health } = world();
    clock.now = 30_000;
    health.tick();
    health.tick();
    expect(pings).toHaveLength(1);
    clock.now = 31_000;
    pings[0]!();
    clock.now = 60_000;
    health.tick();
    expect(pings).toHaveLength(1); // 29 s since the ACK
    clock.now = 61_000;
    health.tick();
    expect(pings).toHaveLength(2);
    expect(kills).toHaveLength(0);
  });

  it('closes the session when the ping is not answered within the deadline', () => {
    const { clock, kills, health } = world();
    clock.now = 30_000;
    health.tick();
    clock.now = 44_999;
    health.tick();
    expect(kills).toHaveLength(0);
    clock.now = 45_000;
    health.tick();
    expect(kills).toHaveLength(1);
    expect(kills[0]!.message).toMatch(/PING/);
    clock.now = 50_000;
    health.tick();
    expect(kills).toHaveLength(1); // once
  });
});
