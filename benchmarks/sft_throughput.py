"""SFT throughput benchmark: tokens/s of `early_exp.training.train` against a bare TRL `SFTTrainer` on the same data.

Both train SmolLM2-135M-Instruct with LoRA under bf16 autocast (where the CPU/GPU has it), gradient checkpointing
off, the same batch, learning rate, max_length and number of steps, on the IL examples of a few BFCL expert
trajectories. BFCL states are about 2k tokens, so examples are first fitted into `--max-length` tokens by our
`fit_examples` (the middle of the state is cut); the bare run gets those same fitted examples, because TRL alone
would truncate at the end and cut every completion away. tokens/s counts the non-padding tokens the trainer saw
(TRL's `num_tokens`) over `trainer.train()` time; wall time adds data preparation, model loading and saving.
The first training run in a process pays for building the CPU kernels of every new shape (several times slower),
so a short warm-up run comes first, then `--rounds` rounds of bare-then-ours; the best of each is compared.

    python benchmarks/sft_throughput.py [--tasks 4] [--steps 6] [--batch 2] [--max-length 1024] [--rounds 2]
"""
import argparse, os, sys, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
from datasets.utils.logging import disable_progress_bar
from early_exp.env import make
from early_exp.expert import expert_job
from early_exp.models import resolve_model
from early_exp.notation import load_records
from early_exp.training import TrainConfig, train, il_examples, fit_examples, use_bf16, peft_config, _cuda

def bare_trl(cfg, data, steps, out):
    "A plain SFTTrainer run with the same settings; returns (tokens, train seconds, wall seconds, final loss)."
    from trl import SFTConfig, SFTTrainer
    t0 = time.perf_counter()
    args = SFTConfig(output_dir=str(out), max_steps=steps, per_device_train_batch_size=cfg.batch_size,
                     gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler,
                     warmup_steps=cfg.warmup_ratio, bf16=use_bf16(cfg), use_cpu=not _cuda(),
                     activation_checkpointing=False, max_length=cfg.max_length, logging_steps=1, save_strategy='no',
                     report_to='none', seed=cfg.seed)
    tr = SFTTrainer(model=str(resolve_model(cfg.model)), args=args, train_dataset=data, peft_config=peft_config(cfg))
    t1 = time.perf_counter(); tr.train(); t2 = time.perf_counter()
    tokens = max(h['num_tokens'] for h in tr.state.log_history if 'num_tokens' in h)
    loss = [h['loss'] for h in tr.state.log_history if 'loss' in h][-1]
    return dict(tokens=int(tokens), train_s=t2-t1, wall_s=t2-t0, final_loss=loss)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--tasks', type=int, default=4, help='training tasks for D_expert')
    p.add_argument('--env', default='bfcl', help='the environment whose expert steps are trained on')
    p.add_argument('--steps', type=int, default=6, help='optimizer steps of each run (aim: about 60 s each)')
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--max-length', type=int, default=1024)
    p.add_argument('--model', default='smollm2')
    p.add_argument('--rounds', type=int, default=2)
    a = p.parse_args()
    disable_progress_bar()
    tmp = Path(tempfile.mkdtemp())
    expert_job(a.env, 'train', tmp/'expert', limit=a.tasks)
    cfg = TrainConfig(model=a.model, method='il', lora=True, batch_size=a.batch, max_steps=a.steps,
                      max_length=a.max_length, lr=1e-4, logging_steps=1, output_dir=str(tmp/'ours'))
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.model))
    with make(a.env) as env: data, lengths, dropped = fit_examples(il_examples(load_records(tmp/'expert'), env), tok, a.max_length)
    print(f"{len(data)} IL examples ({dropped} dropped), mean {sum(lengths)/len(lengths):.0f} tokens; "
          f"{a.steps} steps at batch {a.batch}, LoRA, bf16 autocast={use_bf16(cfg)}", file=sys.stderr)

    from dataclasses import replace
    bare_trl(replace(cfg, max_steps=2), data, 2, tmp/'warmup')       # warm-up, not reported
    runs = []
    for r in range(a.rounds):
        bare = bare_trl(cfg, data, a.steps, tmp/'bare')
        t0 = time.perf_counter(); log = train(cfg, tmp/'expert'); wall = time.perf_counter() - t0
        ours = dict(tokens=log['tokens'], train_s=log['runtime_s'], wall_s=wall, final_loss=log['final_loss'])
        runs += [(f'bare TRL {r+1}', bare), (f'ours {r+1}', ours)]

    print(f"\n{'run':12s} {'tokens':>8s} {'train s':>8s} {'tokens/s':>9s} {'wall s':>7s} {'final loss':>10s}")
    for name, r in runs:
        print(f"{name:12s} {r['tokens']:8d} {r['train_s']:8.1f} {r['tokens']/r['train_s']:9.0f} {r['wall_s']:7.1f} {r['final_loss']:10.4f}")
    best = lambda who: max(r['tokens']/r['train_s'] for n, r in runs if n.startswith(who))
    wall = lambda who: min(r['wall_s'] for n, r in runs if n.startswith(who))
    print(f"best tokens/s: bare TRL {best('bare'):.0f}, ours {best('ours'):.0f}; bare/ours = {best('bare')/best('ours'):.2f}x "
          f"(target <= 1.5x); wall ours/bare = {wall('ours')/wall('bare'):.2f}x")

if __name__ == '__main__':
    main()
