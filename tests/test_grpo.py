"Multi-turn GRPO on real environments with the tiny model: masks reach TRL's loss, rewards come from the env, runs resume, the CLI."
import argparse, json, math, os
import pytest
os.environ.setdefault('TRL_EXPERIMENTAL_SILENCE', '1')
import torch
from early_exp.env import make, EnvError
from early_exp.models import load_model
from early_exp.grpo import (recipe_for, grpo, grpo_trainer, read_log, play, trajectory_reward, env_turn_ids,
                            chat_turn_texts, RewardLog)
from early_exp.cli import parser

@pytest.fixture(scope='module')
def bfcl_envs():
    envs = [make('bfcl'), make('bfcl')]
    yield envs
    for e in envs: e.close()

def test_env_mask_reaches_the_loss(bfcl_envs, tmp_path):
    "TRL turns `env_mask` into its `tool_mask`: the loss covers exactly the model's tokens, and is finite."
    recipe = recipe_for('bfcl', 'smoke')
    tasks = bfcl_envs[0].tasks('train')[:1]
    tr = grpo_trainer('tiny', 'bfcl', bfcl_envs, tasks, recipe, tmp_path/'ck')
    seen = {}
    inner = tr.rollout_func
    def spy(prompts, trainer):
        seen['out'] = inner(prompts, trainer)
        return seen['out']
    tr.rollout_func = spy
    batch = tr._generate_and_score_completions([{'prompt': t} for t in tasks for _ in range(recipe.group_size)])
    masks = seen['out']['env_mask']
    assert len(masks) == recipe.group_size
    for i, m in enumerate(masks):
        assert batch['tool_mask'][i, :len(m)].tolist() == m
        assert 0 < sum(m) < len(m)                      # both the model's and the environment's tokens are there
    loss_tokens = (batch['completion_mask'] * batch['tool_mask']).sum().item()
    assert loss_tokens == sum(sum(m) for m in masks)
    loss = tr.compute_loss(tr.model, batch)
    assert math.isfinite(loss.item())

def test_rewards_are_the_environments(bfcl_envs):
    "Each episode's reward is what a fresh replay of its actions earns; env tokens are the env's turns."
    model, tok = load_model('tiny', dtype='float32')
    recipe = recipe_for('bfcl', 'smoke')
    task = bfcl_envs[0].tasks('test')[0]
    trajs = play(model, tok, bfcl_envs, [task]*3, 'bfcl', recipe)
    turns = chat_turn_texts(tok)
    with make('bfcl') as env:
        for t in trajs:
            env.reset(task)
            sts = [env.step(a) for a in t.actions]
            assert [s.observation for s in sts] == t.observations
            r = trajectory_reward('bfcl', sts[-1].info, sts[-1].done, sum(not s.info['valid'] for s in sts), len(sts), recipe.invalid_penalty)
            assert abs(r - t.reward) < 1e-9
            env_ids = [x for x, m in zip(t.completion_ids, t.env_mask) if m == 0]
            assert tok.decode(env_ids) == ''.join(tok.decode(env_turn_ids(tok, o, [], turns)) for o in t.observations[:-1])

class Interrupt(Exception): pass

def test_interrupted_run_resumes(tmp_path):
    "Killed after step 1's checkpoint, the same call resumes at step 2; the log has each step once; the policy is saved."
    from transformers import TrainerCallback
    class Stop(TrainerCallback):
        def on_save(self, args, state, control, **kw):
            if state.global_step == 1: raise Interrupt()
    recipe = recipe_for('bfcl', 'smoke')
    with pytest.raises(Interrupt):
        grpo('tiny', 'bfcl', 'train', tmp_path/'run', recipe, limit=1, callbacks=[Stop()])
    assert [r['step'] for r in read_log(tmp_path/'run')] == [1]
    assert (tmp_path/'run'/'checkpoints'/'checkpoint-1').is_dir()
    s = grpo('tiny', 'bfcl', 'train', tmp_path/'run', recipe, limit=1)
    assert s['resumed_from'].endswith('checkpoint-1') and s['steps'] == 2
    log = read_log(tmp_path/'run')
    assert [r['step'] for r in log] == [1, 2]
    assert all(math.isfinite(r['loss']) and r['episodes'] == 2 for r in log)
    assert not (tmp_path/'run'/'checkpoints').exists()
    m, _ = load_model(tmp_path/'run')
    assert type(m).__name__ == 'LlamaForCausalLM'
    with pytest.raises(EnvError, match='different GRPO run'):
        grpo('tiny', 'bfcl', 'train', tmp_path/'run', recipe_for('bfcl', 'smoke'), limit=2)

def test_cli_handler(tmp_path, capsys):
    p = parser()
    a = p.parse_args(['grpo', '--env', 'bfcl', '--model', 'tiny', '--out', str(tmp_path/'cli'), '--recipe', 'smoke',
                      '--limit', '1', '--steps', '1'])
    a.fn(a)
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('reward=')
    assert json.loads((tmp_path/'cli'/'grpo.json').read_text())['steps'] == 1
    with pytest.raises(SystemExit): p.parse_args(['grpo', '--env', 'bfcl', '--out', 'x', '--recipe', 'huge'])
    with pytest.raises(EnvError, match='unknown environment'):
        grpo('tiny', 'nope', 'train', tmp_path/'x', recipe_for('bfcl', 'smoke'))

def test_grpo_moves_a_policy_that_sometimes_acts_validly(tmp_path):
    """The whole loop learns: a tiny model imitation-trained for a few seconds on find-plant/0 acts validly some of the
    time, so the episodes of a group earn different rewards (the invalid-action penalty), the advantages are not
    zero, the loss is not zero and GRPO changes the weights (held in float32 during training)."""
    from dataclasses import replace
    from transformers import TrainerCallback
    from early_exp.expert import expert_job
    from early_exp.training import TrainConfig, train
    expert_job('scienceworld', 'train', tmp_path/'expert', tasks=['find-plant/0'])
    train(TrainConfig(model='tiny', method='il', lr=3e-3, batch_size=4, max_steps=60, warmup_ratio=0., scheduler='constant'),
          tmp_path/'expert', out=tmp_path/'il')
    class Weights(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kw):
            self.before = {k: v.detach().float().clone() for k, v in model.named_parameters()}
        def on_train_end(self, args, state, control, model=None, **kw):
            self.moved = [k for k, v in model.named_parameters() if not torch.equal(v.detach().float(), self.before[k])]
    w = Weights()
    recipe = replace(recipe_for('scienceworld', 'smoke'), group_size=4, micro_batch=4, envs=4, lr=1e-3)
    s = grpo(str(tmp_path/'il'), 'scienceworld', 'train', tmp_path/'rl', recipe, tasks=['find-plant/0'], callbacks=[w])
    log = read_log(tmp_path/'rl')
    assert s['steps'] == 2 and [r['episodes'] for r in log] == [4, 4]
    assert any(r['invalid_rate'] < 100 for r in log)          # some actions were carried out ...
    assert any(r['reward_std'] > 0 and r['loss'] != 0 for r in log)   # ... so rewards differ within a group
    assert len(w.moved) > 0.5 * len(w.before)                  # and GRPO moved the weights
