import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TabLeadership, type LeadershipMessage } from '../../src/core/leadership.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FakeBus, FakeLocks, settle } from './leadership-fakes.ts';

type State = { readonly queueDepth: number };

function world() {
  const locks = new FakeLocks();
  const bus = new FakeBus<LeadershipMessage<State>>();
  const tabs = new Map<string, TabLeadership<State>>();
  const open = (tab: string, opts: { unavailable?: boolean } = {}) => {
    const l = new TabLeadership<State>({ lockName: 'petrel:p:core', tabId: tab, locks: locks.forTab(tab, opts), channel: bus.channel(tab), logger: silentLogger });
    tabs.set(tab, l);
    void l.start();
    return l;
  };
  const crash = (tab: string) => {
    bus.kill(tab);
    locks.kill(tab);
    tabs.delete(tab);
  };
  return { locks, bus, tabs, open, crash };
}

describe('one active tab (leadership state machine)', () => {
  it('the first tab leads, a second follows and sees the published state, also when it joins late', async () => {
    const w = world();
    const a = w.open('a');
    await settle();
    expect(a.getSnapshot()).toEqual({ role: 'leader', leaderTab: 'a' });
    expect(a.publish({ queueDepth: 3 })).toBe(true);
    const b = w.open('b');
    await settle();
    // b joined after the publish: its hello made the leader announce itself and resend the state.
    expect(b.getSnapshot()).toEqual({ role: 'follower', leaderTab: 'a', followed: { queueDepth: 3 } });
    a.publish({ queueDepth: 4 });
    await settle();
    expect(b.getSnapshot().followed).toEqual({ queueDepth: 4 });
    expect(b.publish({ queueDepth: 99 })).toBe(false);
    await settle();
    expect(a.getSnapshot().role).toBe('leader');
    expect(w.locks.heldBy()).toBe('a');
  });

  it('when the leader closes cleanly the waiting tab takes over', async () => {
    const w = world();
    const a = w.open('a');
    const b = w.open('b');
    await settle();
    const roles: string[] = [];
    b.subscribe((s) => roles.push(s.role));
    a.stop();
    await settle();
    expect(a.getSnapshot().role).toBe('stopped');
    expect(a.publish({ queueDepth: 1 })).toBe(false);
    expect(b.getSnapshot()).toEqual({ role: 'leader', leaderTab: 'b' });
    expect(roles).toContain('leader');
    expect(w.locks.heldBy()).toBe('b');
  });

  it('when the leader crashes (no goodbye) the browser frees its lock and the next tab takes over', async () => {
    const w = world();
    w.open('a');
    const b = w.open('b');
    const c = w.open('c');
    await settle();
    w.crash('a');
    await settle();
    expect(b.getSnapshot().role).toBe('leader');
    expect(c.getSnapshot()).toMatchObject({ role: 'follower', leaderTab: 'b' });
  });

  it('a tab that stops while waiting never leads', async () => {
    const w = world();
    const a = w.open('a');
    const b = w.open('b');
    await settle();
    b.stop();
    a.stop();
    await settle();
    expect(b.getSnapshot().role).toBe('stopped');
    expect(w.locks.heldBy()).toBeUndefined();
  });

  it('without Web Locks the tab reports failed instead of running a second core', async () => {
    const w = world();
    const a = w.open('a', { unavailable: true });
    await settle();
    expect(a.getSnapshot().role).toBe('failed');
  });

  it('ignores malformed channel messages', async () => {
    const w = world();
    const a = w.open('a');
    await settle();
    const stray = w.bus.channel('x');
    stray.post(null as never);
    stray.post({ t: 'state' } as never);
    stray.post({ t: 'unknown', tab: 'x' } as never);
    await settle();
    expect(a.getSnapshot()).toEqual({ role: 'leader', leaderTab: 'a' });
  });

  it('any sequence of opens, stops and crashes leaves exactly one leader among live tabs, the lock holder (property)', async () => {
    const action = fc.oneof(
      fc.constant({ kind: 'open' as const }),
      fc.record({ kind: fc.constantFrom('stop' as const, 'crash' as const), index: fc.nat(5) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
        const w = world();
        let n = 0;
        for (const a of actions) {
          if (a.kind === 'open') w.open(`t${n++}`);
          else {
            const live = [...w.tabs.keys()];
            const tab = live[a.index % Math.max(1, live.length)];
            if (tab === undefined) continue;
            if (a.kind === 'stop') {
              w.tabs.get(tab)!.stop();
              w.tabs.delete(tab);
            } else w.crash(tab);
          }
          await settle();
          const leaders = [...w.tabs.entries()].filter(([, l]) => l.getSnapshot().role === 'leader').map(([t]) => t);
          expect(leaders.length).toBe(w.tabs.size > 0 ? 1 : 0);
          expect(w.locks.heldBy()).toBe(leaders[0]);
          for (const [t, l] of w.tabs) if (t !== leaders[0]) expect(l.getSnapshot().role).toBe('follower');
        }
      }),
      { numRuns: 150 },
    );
  });
});
