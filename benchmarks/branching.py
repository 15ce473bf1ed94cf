"""Branching benchmark: cost of taking K alternatives from every expert state, ours against the naive way.

Ours is what the rollout pipeline does (`rollout_task` without the sampling, which both sides share): walk the
expert trajectory and branch each state by snapshot or fast exact replay. Naive rebuilds every (state, alternative) from scratch through the official API: ScienceWorld's
`env.load` + `env.reset` + `env.step` for the expert prefix, then the alternative; BFCL's reset + replay.
Prints wall time and environment operations per (state, alternative), and the ratio.

    python benchmarks/branching.py [--k 3] [--sw-tasks 3] [--bfcl-tasks 20]
"""
import argparse, random, time, sys
from collections import Counter
from early_exp.env import make, expert_steps
from early_exp.env import branch_here
from early_exp.rollout import alternatives

class Counting:
    "Forwards every attribute of `obj`, counting the method calls made through it."
    def __init__(self, obj, counts): self._obj, self._counts = obj, counts
    def __getattr__(self, name):
        attr = getattr(self._obj, name)
        if not callable(attr): return attr
        def call(*a, **kw): self._counts[name] += 1; return attr(*a, **kw)
        return call

def count_ops(env):
    "Count the operations of `env`: JVM calls for ScienceWorld, steps and state copies for Python envs."
    counts = Counter()
    if env.name == 'scienceworld':
        sim = env._simulator()
        sim.server = Counting(sim.server, counts)
    else:
        for m in ('_step', 'snapshot', 'restore', '_reset'):
            f = getattr(env, m)
            setattr(env, m, (lambda f, m: lambda *a, **kw: (counts.update([m]), f(*a, **kw))[1])(f, m))
    return counts

def bench(env, tasks, k, seed=0):
    counts = count_ops(env)
    plans = []                                            # gold paths and alternatives, chosen before timing
    for t in tasks:
        steps = expert_steps(env, t); env.reset(t); alts = []
        for s in steps:
            alts.append(alternatives(env, s.action, k, random.Random(f"{seed}:{s.key}")))
            env.step(s.action)
        plans.append((t, steps, alts))
    counts.clear(); t0 = time.perf_counter(); triples = []
    for t, steps, alts in plans:                          # ours: walk the expert path, branch at every state
        env.reset(t)
        for s, al in zip(steps, alts):
            triples += [(t, s.step, a, st.observation) for (a, _), (st, _) in zip(al, branch_here(env, [a for a, _ in al]))]
            env.step(s.action)
    ours_s, ours_ops = time.perf_counter()-t0, sum(counts.values())
    n = len(triples)
    counts.clear(); t0 = time.perf_counter()
    expert = {t: [s.action for s in steps] for t, steps, _ in plans}
    for t, i, a, obs in triples:                          # naive: rebuild every (state, alternative) from scratch
        env.replay(t, expert[t][:i], fast=False)
        st = env.step(a)
        assert st.observation == obs, (t, i, a)          # the naive path agrees with ours
    naive_s, naive_ops = time.perf_counter()-t0, sum(counts.values())
    return dict(env=env.name, tasks=len(tasks), states=sum(len(s) for _, s, _ in plans), pairs=n,
                ours_ms=1000*ours_s/n, naive_ms=1000*naive_s/n, ours_ops=ours_ops/n, naive_ops=naive_ops/n,
                speedup=naive_s/ours_s)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--k', type=int, default=3)
    p.add_argument('--sw-tasks', default='find-non-living-thing,find-plant,lifespan-longest-lived')
    p.add_argument('--bfcl-tasks', type=int, default=20)
    a = p.parse_args()
    rows = []
    with make('scienceworld') as env:
        tasks = [next(t for t in env.tasks('train') if t.startswith(name+'/')) for name in a.sw_tasks.split(',')]
        rows.append(bench(env, tasks, a.k))
    with make('bfcl') as env:
        rows.append(bench(env, env.tasks('train')[:a.bfcl_tasks], a.k))
    print(f"\nK={a.k} alternatives per expert state; per (state, alternative):")
    print(f"{'env':14s} {'tasks':>5s} {'states':>6s} {'pairs':>6s} {'ours ms':>9s} {'naive ms':>9s} {'ours ops':>9s} {'naive ops':>9s} {'speedup':>8s}")
    for r in rows:
        print(f"{r['env']:14s} {r['tasks']:5d} {r['states']:6d} {r['pairs']:6d} {r['ours_ms']:9.2f} {r['naive_ms']:9.2f} "
              f"{r['ours_ops']:9.1f} {r['naive_ops']:9.1f} {r['speedup']:7.1f}x")
    print("ops: JVM calls (ScienceWorld); env steps, resets and state copies (BFCL)")

if __name__ == '__main__': main()
