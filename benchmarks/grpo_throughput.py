"""GRPO throughput: rollouts (episodes/s, generated tokens/s) and updates (tokens/s) of `early_exp.grpo.grpo`.

Runs `--steps` optimizer steps of multi-turn GRPO in a real environment (default ScienceWorld's find-plant/0,
`--group` episodes of `--max-steps` actions per step) for each model, and reads the per-step log: rollout time,
model and environment tokens, TRL's step time and token count. The update time of a step is its step time minus
its rollout time; update tokens/s counts every token the update's forward passes see (prompt, model and
environment tokens; the policy and the reference model each run over them). The first step of a process pays for
building CPU kernels, so the best step is reported next to the mean.

    python benchmarks/grpo_throughput.py [--models tiny smollm2] [--env scienceworld] [--task find-plant/0] [--steps 2]
"""
import argparse, os, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('TRL_EXPERIMENTAL_SILENCE', '1')
from early_exp.grpo import grpo, recipe_for, read_log

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', nargs='+', default=['tiny', 'smollm2'])
    p.add_argument('--env', default='scienceworld'); p.add_argument('--task', default='find-plant/0')
    p.add_argument('--steps', type=int, default=2); p.add_argument('--group', type=int, default=2)
    p.add_argument('--max-steps', type=int, default=3); p.add_argument('--max-new-tokens', type=int, default=16)
    p.add_argument('--micro-batch', type=int, help='episodes per forward/backward pass (default: the group)')
    p.add_argument('--lora', action='store_true', help='LoRA adapters instead of all weights')
    a = p.parse_args()
    rows = []
    for m in a.models:
        recipe = replace(recipe_for(a.env, 'smoke'), steps=a.steps, group_size=a.group, micro_batch=a.micro_batch or a.group, envs=a.group,
                         max_steps=a.max_steps, max_new_tokens=a.max_new_tokens, save_steps=10**6, lora=a.lora)
        out = Path(tempfile.mkdtemp())/Path(m).name
        t0 = time.perf_counter()
        grpo(m, a.env, 'train', out, recipe, tasks=[a.task])
        wall = time.perf_counter() - t0
        log, prev = read_log(out), 0
        for r in log:
            r['tokens'], prev = r['num_tokens'] - prev, r['num_tokens']
            r['update_s'] = max(r['step_s'] - r['rollout_s'], 1e-9)
        eps = lambda r: r['episodes']/r['rollout_s']
        gen = lambda r: r['model_tokens']/r['rollout_s']
        upd = lambda r: r['tokens']/r['update_s']
        mean = lambda f: sum(map(f, log))/len(log)
        m = Path(m).name
        rows.append((m, len(log), sum(r['episodes'] for r in log), mean(eps), max(map(eps, log)), mean(gen), max(map(gen, log)),
                     mean(upd), max(map(upd, log)), sum(r['rollout_s'] for r in log), sum(r['update_s'] for r in log), wall))
    print(f"\n{a.env} {a.task}: {a.group} episodes a step, {a.max_steps} actions of <= {a.max_new_tokens} tokens each")
    print(f"{'model':12s} {'steps':>5s} {'episodes':>8s} {'episodes/s':>16s} {'gen tokens/s':>16s} {'update tokens/s':>16s} {'rollout s':>9s} {'update s':>8s} {'wall s':>7s}")
    for m, n, e, em, eb, gm, gb, um, ub, rs, us, w in rows:
        print(f"{m:12s} {n:5d} {e:8d} {em:7.3f} (best {eb:5.3f}) {gm:7.1f} (best {gb:5.1f}) {um:7.0f} (best {ub:5.0f}) {rs:9.1f} {us:8.1f} {w:7.1f}")

if __name__ == '__main__':
    main()
