import { ReadThrottle, type PausableConnection } from './read-throttle.ts';

class FakeConnection implements PausableConnection {
  reading = true;
  destroyed = false;
  readonly #onClose: (() => void)[] = [];
  get closeListeners(): number {
    return this.#onClose.length;
  }
  pause(): void {
    this.reading = false;
  }
  resume(): void {
    this.reading = true;
  }
  once(_event: 'close', listener: () => void): void {
    this.#onClose.push(listener);
  }
  close(): void {
    this.destroyed = true;
    this.#onClose.splice(0).forEach((listener) => listener());
  }
}

const fakes = (n: number): FakeConnection[] =>
  Array.from({ length: n }, () => new FakeConnection());

/** The throttle's deferred pump, run by hand: one call is one turn of the event loop. */
function harness(initialFree: number) {
  const slots = { free: initialFree, freeSlots: () => slots.free };
  const deferred: (() => void)[] = [];
  const clock = { now: 0 };
  const throttle = new ReadThrottle(slots, {
    defer: (run) => deferred.push(run),
    now: () => clock.now,
    maxParkedMs: 1000,
  });
  const turn = (): number => {
    const runs = deferred.splice(0);
    runs.forEach((run) => run());
    return runs.length;
  };
  return { slots, throttle, turn, clock };
}

describe('ReadThrottle', () => {
  it('leaves a connection reading while a slot is free', () => {
    const { throttle, turn } = harness(1);
    const a = new FakeConnection();
    throttle.idle(a);
    expect(a.reading).toBe(true);
    expect(throttle.parked).toBe(0);
    throttle.released();
    expect(turn()).toBe(0); // nobody parked: no pump
  });

  it('parks idle connections while no slot is free and wakes them oldest first, one per slot', () => {
    const { slots, throttle, turn } = harness(0);
    const [a, b, c] = fakes(3);
    for (const connection of [a!, b!, c!]) throttle.idle(connection);
    expect([a!.reading, b!.reading, c!.reading]).toEqual([false, false, false]);
    expect(throttle.parked).toBe(3);

    slots.free = 1;
    throttle.released();
    expect(a!.reading).toBe(false); // nothing happens until the event loop turns
    turn();
    expect([a!.reading, b!.reading, c!.reading]).toEqual([true, false, false]);
    // a delivered its request and took the slot: the follow-up pump wakes nobody.
    slots.free = 0;
    turn();
    expect([b!.reading, c!.reading]).toEqual([false, false]);

    slots.free = 2;
    throttle.released();
    turn();
    expect([b!.reading, c!.reading]).toEqual([true, true]);
    expect(throttle.parked).toBe(0);
  });

  it('wakes the next connection when a woken one had nothing to send', () => {
    const { slots, throttle, turn } = harness(0);
    const [a, b] = fakes(2);
    throttle.idle(a!);
    throttle.idle(b!);
    slots.free = 1;
    throttle.released();
    turn();
    expect([a!.reading, b!.reading]).toEqual([true, false]);
    // a stayed quiet, so the slot is still free on the next turn: b gets its chance.
    turn();
    expect(b!.reading).toBe(true);
    expect(turn()).toBe(0);
  });

  it('forgets a parked connection that closes and never resumes a destroyed one', () => {
    const { slots, throttle, turn } = harness(0);
    const [a, b, c] = fakes(3);
    throttle.idle(a!);
    throttle.idle(b!);
    throttle.idle(c!);
    a!.close();
    expect(throttle.parked).toBe(2);
    b!.destroyed = true; // destroyed, its 'close' not emitted yet
    slots.free = 1;
    throttle.released();
    turn();
    expect(b!.reading).toBe(false);
    expect(c!.reading).toBe(true);
  });

  it('parks a connection once however often it is reported idle, and skips destroyed ones', () => {
    const { throttle } = harness(0);
    const a = new FakeConnection();
    throttle.idle(a);
    throttle.idle(a);
    expect(throttle.parked).toBe(1);
    const gone = new FakeConnection();
    gone.destroyed = true;
    throttle.idle(gone);
    expect(throttle.parked).toBe(1);
  });

  it('runs one pump per turn however many slots are released in it', () => {
    const { slots, throttle, turn } = harness(0);
    const connections = fakes(4);
    connections.forEach((c) => throttle.idle(c));
    slots.free = 2;
    throttle.released();
    throttle.released();
    expect(turn()).toBe(1);
    expect(connections.map((c) => c.reading)).toEqual([true, true, false, false]);
  });

  it('wakes a connection parked longer than maxParkedMs at the next release, slot or not', () => {
    const { throttle, turn, clock } = harness(0);
    const [old, young] = [new FakeConnection(), new FakeConnection()];
    throttle.idle(old);
    clock.now = 600;
    throttle.idle(young);
    clock.now = 1000; // old has waited its 1000 ms; young 400
    throttle.released(); // the slot passed straight to a waiter: none free
    turn();
    expect([old.reading, young.reading]).toEqual([true, false]);
    expect(throttle.parked).toBe(1);
    clock.now = 1700;
    throttle.released();
    turn();
    expect(young.reading).toBe(true);
  });

  it('listens for close once per connection however often it is parked', () => {
    const { slots, throttle, turn } = harness(0);
    const a = new FakeConnection();
    for (let i = 0; i < 50; i++) {
      slots.free = 0;
      throttle.idle(a);
      slots.free = 1;
      throttle.released();
      turn();
    }
    expect(a.closeListeners).toBe(1);
    slots.free = 0;
    throttle.idle(a);
    a.close();
    expect(throttle.parked).toBe(0);
  });
});
