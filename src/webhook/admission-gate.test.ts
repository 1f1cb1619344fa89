import { AdmissionGate } from './admission-gate.ts';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await Promise.resolve();
};

describe('AdmissionGate', () => {
  it('lets `limit` admissions in at once and the next ones in arrival order', async () => {
    const gate = new AdmissionGate(2);
    const entered: number[] = [];
    const leaves: (() => void)[] = [];
    for (let i = 0; i < 5; i++)
      void gate.enter().then((leave) => {
        entered.push(i);
        leaves[i] = leave;
      });
    await flush();
    expect(entered).toEqual([0, 1]);
    expect(gate.waiting).toBe(3);
    leaves[1]!();
    await flush();
    expect(entered).toEqual([0, 1, 2]);
    leaves[0]!();
    leaves[2]!();
    await flush();
    expect(entered).toEqual([0, 1, 2, 3, 4]);
    expect(gate.active).toBe(2);
    leaves[3]!();
    leaves[4]!();
    expect(gate.active).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it('ignores a second leave from the same admission', async () => {
    const gate = new AdmissionGate(1);
    const first = await gate.enter();
    let second = false;
    void gate.enter().then(() => (second = true));
    first();
    first();
    await flush();
    expect(second).toBe(true);
    expect(gate.active).toBe(1);
  });

  it('counts free slots as 0 while anyone waits, and tells every leave', async () => {
    let left = 0;
    const gate = new AdmissionGate(2, () => left++);
    expect(gate.freeSlots()).toBe(2);
    const first = await gate.enter();
    expect(gate.freeSlots()).toBe(1);
    const second = await gate.enter();
    void gate.enter();
    await flush();
    expect(gate.freeSlots()).toBe(0);
    first(); // the slot passes to the waiter: still none free
    expect(left).toBe(1);
    expect(gate.freeSlots()).toBe(0);
    second();
    second(); // a second leave is ignored and not told
    expect(left).toBe(2);
    expect(gate.freeSlots()).toBe(1);
  });

  it('refuses a limit that is not a positive integer, naming it', () => {
    expect(() => new AdmissionGate(0)).toThrow('positive integer, got 0');
    expect(() => new AdmissionGate(1.5)).toThrow('got 1.5');
  });
});
