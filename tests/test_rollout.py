"Rollout jobs on the real environments: invariants, the policy sampler, and resuming an interrupted job."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from datasets import load_from_disk
from early_exp.expert import expert_job, shard_name
from early_exp.rollout import rollout_job
from early_exp.notation import check_rollouts
from early_exp.env import make
from conftest import BIN

@pytest.fixture(scope='module')
def bfcl_expert(tmp_path_factory):
    d = tmp_path_factory.mktemp('bfcl')/'expert'
    expert_job('bfcl', 'train', d, limit=6)
    return d

def test_uniform_rollout_invariants(bfcl_expert, tmp_path):
    ex = load_from_disk(str(bfcl_expert))
    ro = rollout_job(bfcl_expert, tmp_path/'r', k=5, sampler='uniform', seed=1)
    with make('bfcl') as env: c = check_rollouts(ex, ro, env.canonical)
    assert c['branched'] == len(ex) and c['rollout'] == 5*len(ex)
    # states of the triples are the expert states they branch from
    states = dict(zip(ex['key'], ex['state']))
    assert all(states[k] == s for k, s in zip(ro['expert_key'], ro['state']))
    # deterministic: the same seed gives the same alternatives
    again = rollout_job(bfcl_expert, tmp_path/'r2', k=5, sampler='uniform', seed=1)
    assert again['action'] == ro['action']

def test_policy_sampler_tiny_model(bfcl_expert, tmp_path):
    ro = rollout_job(bfcl_expert, tmp_path/'p', k=3, sampler='policy', model='tiny', temperatures=(0.5, 1.0))
    assert len(ro) == 3*len(load_from_disk(str(bfcl_expert)))
    # the tiny random model proposes garbage: every alternative is a refill, tagged as such
    assert set(ro['sampler']) <= {'refill', 'policy@0.5', 'policy@1.0'} and 'refill' in set(ro['sampler'])

def test_resume_after_lost_shards(bfcl_expert, tmp_path):
    out = tmp_path/'r'
    full = rollout_job(bfcl_expert, out, k=3)
    shards = sorted((out/'shards').iterdir())
    for p in shards[::2]: p.unlink()                     # as if the job died before these tasks
    (out/'shards'/'half-written.tmp').write_text('{"partial": ')  # and in the middle of a write
    again = rollout_job(bfcl_expert, out, k=3)
    assert again['key'] == full['key'] and again['next_state'] == full['next_state']
    assert len(set(again['key'])) == len(again)

def test_resume_after_kill_scienceworld(tmp_path):
    "Kill a real ScienceWorld rollout job mid-way; re-running completes it with no lost or duplicated record."
    ex = tmp_path/'expert'
    expert_job('scienceworld', 'train', ex, limit=3, match='^find-non-living-thing/')
    tasks = list(dict.fromkeys(load_from_disk(str(ex))['task']))
    out = tmp_path/'r'
    cmd = [str(BIN/'early-exp'), 'rollout', '--expert', str(ex), '--k', '2', '--out', str(out)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    n_shards = lambda: len(list((out/'shards').glob('*.jsonl'))) if (out/'shards').exists() else 0
    while time.time()-t0 < 300 and n_shards() == 0 and p.poll() is None: time.sleep(0.05)
    killed = p.poll() is None
    p.kill(); p.wait()
    assert killed, 'the job finished before it could be interrupted'
    assert 0 < n_shards() < len(tasks)
    q = subprocess.run(cmd, capture_output=True, text=True)
    assert q.returncode == 0, q.stderr
    ro = load_from_disk(str(out))
    n = len(load_from_disk(str(ex)))
    assert len(ro) == 2*n and len(set(ro['key'])) == len(ro)
    assert 'already done' in q.stderr
