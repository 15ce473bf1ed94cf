"Evaluation end to end: the results store (skip, force, resume), batched = sequential, the expert scores 100%."
import json, dataclasses
from pathlib import Path
import pytest
from early_exp.env import make
from early_exp.evaluation import evaluate, load_results, load_episodes, ExpertPolicy, ModelPolicy
from early_exp.models import load_model

@pytest.fixture(scope='module')
def tiny(): return load_model('tiny', dtype='float32')   # fp32: greedy decoding does not depend on the batch's padding

@pytest.fixture(scope='module')
def sw_envs():
    envs = [make('scienceworld') for _ in range(2)]
    yield envs
    for e in envs: e.close()

def _key(r): return [(e['task'], e['outputs'], e['actions'], e['steps'], e['success'], e['raw_score']) for e in r['episodes']]

def test_store_skip_force_resume(tiny, tmp_path):
    kw = dict(limit=3, max_steps=3, max_new_tokens=8, store=tmp_path, progress=False)
    r = evaluate('bfcl', 'test', tiny, **kw)
    rows = load_results(tmp_path)
    assert len(rows) == 1 and rows[0]['run_id'] == r['run_id'] and rows[0]['n'] == 3
    assert {'success_rate', 'mean_score', 'wall_s', 'config', 'metric', 'value'} <= set(rows[0])
    assert rows[0]['config']['max_steps'] == 3 and rows[0]['config']['temperature'] == 0.0
    eps = load_episodes(tmp_path, r['run_id'])
    assert [e['task'] for e in eps] == make('bfcl').tasks('test')[:3] and all(e['steps'] == 3 for e in eps)
    # the same configuration again: returned from the store, not run
    again = evaluate('bfcl', 'test', tiny, **kw)
    assert again['finished'] == r['finished'] and again['wall_s'] == r['wall_s']
    # force: run again, replacing the row
    forced = evaluate('bfcl', 'test', tiny, force=True, **kw)
    assert len(load_results(tmp_path)) == 1 and forced['resumed'] == 0 and _key(forced) == _key(r)
    # another configuration: a second row
    evaluate('bfcl', 'test', tiny, **{**kw, 'max_steps': 2})
    assert len(load_results(tmp_path)) == 2
    # an interrupted run (row missing, one episode written) resumes with the missing episodes only
    rows = [x for x in load_results(tmp_path) if x['run_id'] != r['run_id']]
    (tmp_path/'results.jsonl').write_text(''.join(json.dumps(x)+'\n' for x in rows))
    ep_file = tmp_path/'episodes'/f"{r['run_id']}.jsonl"
    ep_file.write_text(ep_file.read_text().splitlines()[1] + '\n')
    resumed = evaluate('bfcl', 'test', tiny, **kw)
    assert resumed['resumed'] == 1 and resumed['n'] == 3 and _key(resumed) == _key(r)
    assert len(load_results(tmp_path)) == 2 and len(load_episodes(tmp_path, r['run_id'])) == 3

def test_batched_equals_sequential_bfcl(tiny):
    kw = dict(limit=3, max_steps=4, max_new_tokens=8, temperature=0.0, seed=0, progress=False)
    b = evaluate('bfcl', 'test', tiny, batch_size=3, **kw)
    s = evaluate('bfcl', 'test', tiny, batch_size=1, **kw)
    assert _key(b) == _key(s)
    assert b['run_id'] == s['run_id']    # the batch size is not part of the configuration

def test_batched_equals_sequential_scienceworld(tiny, sw_envs):
    kw = dict(limit=3, max_steps=4, max_new_tokens=8, temperature=0.0, seed=0, progress=False, envs=sw_envs)
    b = evaluate('scienceworld', 'test', tiny, batch_size=2, **kw)
    s = evaluate('scienceworld', 'test', tiny, batch_size=1, **kw)
    assert _key(b) == _key(s) and b['n'] == 3 and b['mean_steps'] == 4

def test_sampling_is_seeded(tiny, sw_envs):
    kw = dict(limit=2, max_steps=3, max_new_tokens=8, batch_size=2, progress=False, envs=sw_envs)
    a, b = (evaluate('scienceworld', 'test', tiny, seed=1, **kw) for _ in range(2))
    c = evaluate('scienceworld', 'test', tiny, seed=2, **kw)
    assert a['config']['temperature'] == 0.4 and _key(a) == _key(b) and _key(a) != _key(c)

def test_expert_policy_succeeds(sw_envs):
    bfcl = make('bfcl')
    r = evaluate('bfcl', 'test', ExpertPolicy(bfcl), limit=12, batch_size=4, progress=False)
    assert (r['n'], r['success_rate'], r['invalid_rate'], r['cut_off']) == (12, 100., 0., 0)
    sw = make('scienceworld')
    tasks = ['find-non-living-thing/0', 'find-non-living-thing/3', 'lifespan-longest-lived/0', 'find-animal/2']
    r = evaluate('scienceworld', 'train', ExpertPolicy(sw), tasks=tasks, batch_size=2, envs=sw_envs, progress=False)
    assert (r['n'], r['success_rate'], r['mean_score'], r['errors']) == (4, 100., 100., 0)

def test_long_cot_hook(tiny):
    "The Long-CoT hook wraps the policy: it sees every query and its name goes into the configuration."
    seen = []
    def long_cot(policy):
        policy.max_new_tokens, policy.stop = 12, ['</answer>']
        def think(queries):
            seen.extend(q.task for q in queries)
            return policy(queries)
        return think
    r = evaluate('bfcl', 'test', tiny, limit=2, max_steps=1, long_cot=long_cot, progress=False)
    assert r['config']['long_cot'] == 'long_cot' and sorted(seen) == sorted(make('bfcl').tasks('test')[:2])
