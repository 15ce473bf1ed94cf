"""Build a randomly initialised model from a config, for throughput runs where no weights can be downloaded.

Takes a model directory that has at least `config.json` and the tokenizer files (e.g. SmolLM2's, as cached by
`early_exp.models`), optionally reshapes the config to a larger Llama, initialises the weights at random and saves
model + tokenizer to OUT, loadable by path everywhere a model name is taken. Its outputs are noise: use it only to
time rollouts and updates (episodes run to their length limits), never to report scores.

    python benchmarks/random_model.py SRC OUT [--shape 135m|1.7b|3b]
"""
import argparse, shutil
from pathlib import Path

SHAPES = {   # Llama shapes: SmolLM2-135M (the source), SmolLM2-1.7B, Llama-3.2-3B (the paper's smallest)
    '135m': {},
    '1.7b': dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=24, num_attention_heads=32, num_key_value_heads=32),
    '3b': dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=28, num_attention_heads=24, num_key_value_heads=8),
}

def main():
    p = argparse.ArgumentParser()
    p.add_argument('src'); p.add_argument('out'); p.add_argument('--shape', choices=SHAPES, default='135m')
    a = p.parse_args()
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    cfg = AutoConfig.from_pretrained(a.src)
    for k, v in SHAPES[a.shape].items(): setattr(cfg, k, v)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out); AutoTokenizer.from_pretrained(a.src).save_pretrained(out)
    for f in ('chat_template.jinja', 'generation_config.json'):
        if (Path(a.src)/f).exists() and not (out/f).exists(): shutil.copy(Path(a.src)/f, out/f)
    print(f"{a.shape}: {sum(p.numel() for p in model.parameters())/1e6:.0f}M parameters, random -> {out}")

if __name__ == '__main__':
    main()
