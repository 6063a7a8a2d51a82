import { describe, expect, it } from 'vitest';
import { Checkpoints, GLOBAL_SCOPE } from '../../src/engine/checkpoints.ts';

describe('Checkpoints', () => {
  it('holds a state until every earlier record settles, whatever order they settle in', () => {
    const cp = new Checkpoints<string>();
    const a = cp.receiveRecord([GLOBAL_SCOPE]);
    const b = cp.receiveRecord([GLOBAL_SCOPE]);
    cp.receiveState(GLOBAL_SCOPE, 'S1');
    const c = cp.receiveRecord([GLOBAL_SCOPE]);
    cp.receiveState(GLOBAL_SCOPE, 'S2');
    cp.settle(c, false);
    cp.settle(b, true);
    expect(cp.takeReleasable()).toEqual([]);
    cp.settle(a, false);
    expect(cp.takeReleasable()).toEqual([
      { body: 'S1', counts: { records: 2, rejected: 1 } },
      { body: 'S2', counts: { records: 1, rejected: 0 } },
    ]);
  });

  it('counts per-stream states over their own stream only', () => {
    const cp = new Checkpoints<string>();
    const a1 = cp.receiveRecord([GLOBAL_SCOPE, 'a']);
    const b1 = cp.receiveRecord([GLOBAL_SCOPE, 'b']);
    const a2 = cp.receiveRecord([GLOBAL_SCOPE, 'a']);
    cp.receiveState('a', 'A');
    cp.receiveState('b', 'B');
    [a1, b1, a2].forEach((seq) => cp.settle(seq, seq === a2));
    expect(cp.takeReleasable()).toEqual([
      { body: 'A', counts: { records: 2, rejected: 1 } },
      { body: 'B', counts: { records: 1, rejected: 0 } },
    ]);
  });

  it('releases a state with no records before it at once, with zero counts', () => {
    const cp = new Checkpoints<string>();
    cp.receiveState(GLOBAL_SCOPE, 'S');
    expect(cp.takeReleasable()).toEqual([{ body: 'S', counts: { records: 0, rejected: 0 } }]);
  });

  it('refuses to settle a record twice', () => {
    const cp = new Checkpoints<string>();
    const a = cp.receiveRecord([GLOBAL_SCOPE]);
    cp.settle(a, false);
    expect(() => cp.settle(a, false)).toThrow(/settled twice/);
  });

  it('a held record releases the states before it and none after it, and keeps no state it holds back', () => {
    const cp = new Checkpoints<string>();
    const a = cp.receiveRecord([GLOBAL_SCOPE]);
    cp.receiveState(GLOBAL_SCOPE, 'S1');
    const held = cp.receiveRecord([GLOBAL_SCOPE]);
    const c = cp.receiveRecord([GLOBAL_SCOPE]);
    cp.receiveState(GLOBAL_SCOPE, 'S2');
    cp.hold(held);
    for (let i = 0; i < 1000; i++) {
      cp.settle(cp.receiveRecord([GLOBAL_SCOPE]), false);
      cp.receiveState(GLOBAL_SCOPE, `later ${i}`);
    }
    cp.settle(c, false);
    cp.settle(a, false);
    expect(cp.takeReleasable().map((s) => s.body)).toEqual(['S1']);
    expect(cp.pendingStateCount).toBe(1001);
    expect(cp.unsettledCount).toBe(0);
  });
});
