"Reflection and STaR jobs end to end: counts, an OpenAI-compatible endpoint on loopback, and resuming interrupted jobs."
import json, os, re, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import pytest
from datasets import load_from_disk
from early_exp.expert import expert_job, shard_name
from early_exp.rollout import rollout_job
from early_exp.notation import ReflectionExample, load_records
from early_exp.reflection import reflect_job, EndpointError, FILTERS
from early_exp.baselines import star_job

FAST = dict(max_new_tokens=16, max_state_chars=1200, max_outcome_chars=200)   # the tiny model on short prompts

@pytest.fixture(scope='module')
def bfcl_data(tmp_path_factory):
    d = tmp_path_factory.mktemp('bfcl')
    expert_job('bfcl', 'train', d/'expert', limit=4)
    rollout_job(d/'expert', d/'rollout', k=3)
    return d

def _both(out):
    return load_records(out, ReflectionExample), load_from_disk(str(Path(out)/'dropped'))

def test_tiny_counts_add_up(bfcl_data, tmp_path, capfd):
    d = bfcl_data
    kept = reflect_job(d/'expert', d/'rollout', tmp_path/'r', model='tiny', limit=15, **FAST)
    kept, dropped = _both(tmp_path/'r')
    assert len(kept) + len(dropped) == 15
    assert len(set(kept['key']) | set(dropped['key'])) == 15
    # every dropped record says why; the tiny model's noise fails mostly on its concluding action
    assert all(dropped['filters']) and all(f in FILTERS for fs in dropped['filters'] for f in fs.split(','))
    assert sum('mismatch' in f for f in dropped['filters']) >= len(dropped) - 2
    err = capfd.readouterr().err
    m = re.search(r'reflect bfcl: 15 states from (\d) tasks .*kept (\d+), dropped (\d+)', err)
    assert m and int(m[2]) + int(m[3]) == 15, err[-2000:]
    assert '=== dropped' in err
    # alternatives: the rollout's, as JSON
    alts = json.loads(dropped[0]['alternatives'])
    assert len(alts) == 3 and set(alts[0]) == {'action', 'next_state'}

def test_resume_after_lost_shards(bfcl_data, tmp_path):
    d, out = bfcl_data, tmp_path/'r'
    reflect_job(d/'expert', d/'rollout', out, model='tiny', **FAST, show=0)
    full_k, full_d = _both(out)
    shards = sorted((out/'shards').glob('*.jsonl'))
    assert len(shards) == 4
    for p in shards[::2]: p.unlink()
    (out/'shards'/'half-written.tmp').write_text('{"partial": ')
    reflect_job(d/'expert', d/'rollout', out, model='tiny', **FAST, show=0)
    k, dr = _both(out)
    assert k['key'] == full_k['key'] and dr['key'] == full_d['key'] and dr['raw'] == full_d['raw']
    keys = list(k['key']) + list(dr['key'])
    assert len(keys) == len(set(keys)) == len(load_from_disk(str(d/'expert')))

def test_changed_config_refused(bfcl_data, tmp_path):
    d = bfcl_data
    reflect_job(d/'expert', d/'rollout', tmp_path/'r', model='tiny', limit=3, **FAST, show=0)
    with pytest.raises(Exception, match='another configuration'):
        reflect_job(d/'expert', d/'rollout', tmp_path/'r', model='tiny', limit=3, **{**FAST, 'max_new_tokens': 8}, show=0)

def test_resume_after_kill(bfcl_data, tmp_path):
    "Kill a reflection job in a subprocess after its first task; re-running completes it with nothing lost or duplicated."
    d, out = bfcl_data, tmp_path/'r'
    code = (f"from early_exp.reflection import reflect_job; reflect_job({str(d/'expert')!r}, {str(d/'rollout')!r}, "
            f"{str(out)!r}, model='tiny', max_new_tokens=48, max_state_chars=3000, max_outcome_chars=200, show=0)")
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n_shards = lambda: len(list((out/'shards').glob('*.jsonl'))) if (out/'shards').exists() else 0
    t0 = time.time()
    while time.time()-t0 < 300 and n_shards() == 0 and p.poll() is None: time.sleep(0.05)
    killed = p.poll() is None
    p.kill(); p.wait()
    assert killed, 'the job finished before it could be interrupted'
    assert 0 < n_shards() < 4
    q = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert q.returncode == 0, q.stderr[-2000:]
    assert 'already done' in q.stderr
    k, dr = _both(out)
    keys = list(k['key']) + list(dr['key'])
    assert len(keys) == len(set(keys)) == len(load_from_disk(str(d/'expert')))

# --- an OpenAI-compatible server on the loopback interface ---

class _Reflector(BaseHTTPRequestHandler):
    "Answers every chat with a monologue concluding in the action the prompt names; some leak or conclude wrongly."
    def log_message(self, *a): pass
    def _send(self, obj):
        b = json.dumps(obj).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self): self._send({'data': [{'id': 'writer'}]})
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.server.requests.append(req)
        prompt = req['messages'][-1]['content']
        m = re.search(r'The action I take now:\n(.*?)\n\n', prompt, re.S) or re.search(r'The action to take here is:\n(.*?)\n\n', prompt, re.S)
        action = m.group(1) if m else 'end_turn()'
        i = len(self.server.requests)
        body = "I need to look at what the user asked and what the tools give me. The other calls would not move the request forward."
        if i % 4 == 1: text = f"{body}\n{action}"
        elif i % 4 == 2: text = f"The expert action is clearly best here, better than Action 2 in every way.\n{action}"
        elif i % 4 == 3: text = f"{body}\nend_turn()" if action != 'end_turn()' else f"{body}\nls()"
        else: text = f"{body}\n{action}\n\n{body}\n{action}"          # written twice: one copy is kept
        self._send({'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': text}}]})

@pytest.fixture
def server():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), _Reflector); srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown(); srv.server_close()

def test_endpoint_reflection(bfcl_data, tmp_path, server, capfd):
    srv, url = server
    d = bfcl_data
    kept = reflect_job(d/'expert', d/'rollout', tmp_path/'r', model='writer', endpoint=url, limit=12, k_alts=2, temperature=0.3)
    kept, dropped = _both(tmp_path/'r')
    assert len(srv.requests) == 12 and all(r['model'] == 'writer' and r['temperature'] == 0.3 for r in srv.requests)
    assert len(kept) + len(dropped) == 12 and len(kept) >= 5
    assert all(g == f'writer@{url}' for g in kept['generator'])
    # kept reflections are the reasoning only, without the concluding action, and never leak or repeat
    for r in kept:
        assert not r['reflection'].rstrip().endswith(r['action']) and 'expert' not in r['reflection'].lower()
        assert r['reflection'].count('I need to look') == 1
    fs = dropped['filters']
    assert any('leakage' in f for f in fs) and any('mismatch' in f for f in fs)
    assert '=== kept' in capfd.readouterr().err

def test_endpoint_unreachable(bfcl_data, tmp_path, server):
    srv, url = server
    srv.shutdown(); srv.server_close()
    with pytest.raises(EndpointError, match='cannot reach'):
        reflect_job(bfcl_data/'expert', bfcl_data/'rollout', tmp_path/'r', model='writer', endpoint=url)

def test_star_endpoint_and_tiny(bfcl_data, tmp_path, server, capfd):
    srv, url = server
    d = bfcl_data
    kept = star_job(d/'expert', tmp_path/'s', model='writer', endpoint=url, limit=8)
    dropped = load_from_disk(str(tmp_path/'s'/'dropped'))
    assert len(kept) + len(dropped) == 8 and len(kept) >= 4        # leakage is not a STaR filter
    assert set(kept['alternatives']) == {'[]'} and all(g.startswith('star:') for g in kept['generator'])
    assert 'kept' in capfd.readouterr().err
    tiny = star_job(d/'expert', tmp_path/'t', model='tiny', limit=10, max_new_tokens=16, max_state_chars=1200, show=0)
    assert len(tiny) + len(load_from_disk(str(tmp_path/'t'/'dropped'))) == 10 and len(tiny) <= 1
