"BFCL at full scale: every ground truth through our executor and the official checker, hostile actions, branching."
import builtins, copy, os, random, subprocess, sys
import pytest
from early_exp.env import EnvError, branch, make
from early_exp.bfcl import (BFCL, CATEGORIES, END_TURN, get_entry, split_ids, official_check, canonical_action,
                            parse_calls, Refused)
from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import _compare_instances

# The one entry whose ground truth calls a function before `missed_function` provides it: `tail` is held back
# until turn 3 but the ground truth of turn 1 calls it. Our executor refuses unavailable functions, so its expert fails.
UNPLAYABLE = {'multi_turn_miss_func_49'}

@pytest.fixture(scope='module')
def env(): return BFCL()

def play_expert(env, task):
    "Play the expert; returns the last Step and the actions the env refused."
    env.reset(task)
    refused = []
    for a in env.expert(task):
        st = env.step(a)
        if not st.info['valid']: refused.append(a)
    return st, refused

def test_splits_disjoint_sizes_deterministic():
    train, test = split_ids('train'), split_ids('test')
    assert (len(train), len(test)) == (150, 50)
    assert not set(train) & set(test) and set(train) | set(test) == set(split_ids('base'))
    code = "from early_exp.bfcl import split_ids; print(' '.join(split_ids('train')))"
    for seed in ('1', '2'):
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env={**os.environ, 'PYTHONHASHSEED': seed})
        assert out.stdout.split() == list(train), out.stderr
    for c in CATEGORIES: assert len(split_ids(c)) == 200 and split_ids(c)[0] == f'multi_turn_{c}_0'

def test_unknown_task_and_split_are_one_line(env):
    for bad in ('multi_turn_base_200', 'base_0', 'nope', ''):
        with pytest.raises(EnvError) as e: env.reset(bad)
        assert len(str(e.value).splitlines()) == 1
    with pytest.raises(EnvError): env.tasks('dev')

@pytest.mark.parametrize('category', CATEGORIES)
def test_every_ground_truth_passes_the_official_checker(env, category):
    failed = {}
    for task in split_ids(category):
        st, refused = play_expert(env, task)
        assert st.done and st.reward == st.info['score'] == float(st.info['success'])
        if not st.info['success'] or refused: failed[task] = (refused, env.result.get('error_type'))
    assert set(failed) == (UNPLAYABLE & set(split_ids(category))), failed

def test_expert_step_counts(env):
    counts = {s: sum(len(env.expert(t)) for t in split_ids(s)) for s in ('train', 'test', 'base')}
    assert counts['train'] + counts['test'] == counts['base'] == 1876
    assert all(len(env.expert(t)) <= env.max_steps for c in CATEGORIES for t in split_ids(c))

HOSTILE = ["__import__('os').system('echo pwned')", "().__class__", "ls.__globals__", "os.system('x')",
           "ls(a=open('f'))", "(lambda: 1)()", "[x for x in ls()]", "ls(a=ls())", "exec('1')", "eval('1')",
           "_load_scenario({})", "import os", "ls(*[1])", "ls(**{'a': 1})", "ls(a=f'{1}')", "ls.__call__()",
           "getattr(ls, '__globals__')", "ls(a=[].__class__)", "ls(a=__builtins__)", "ls(", "", "   ", "ls)(",
           "[cd(folder='document'), exec('1')]", "[mkdir(dir_name='x'), ls(a=open('f'))]", "(cd(folder='document'), 1)",
           "cd(folder='document'); rm(file_name='x')", "rm(file_name='x', y=__import__('os'))", "end_turn(1)",
           "[pwd(), end_turn()]", "cp(source='a', destination='b')",  # cp is the entry's excluded function
           "power(base=10, exponent=10**9)", "power(base=10, exponent=1000000000)", "logarithm(value=2, base=10, precision=10**7)",
           "square_root(number=2, precision=100000000)", "mean(numbers=[1]*10)", "ls(a=1 if 1 else 2)", "ls(a=(yield))",
           "ls(a=[1, 2][0])", "ls(a={1: 2}[1])", "ls(a=-x)", "ls(a=not True)", "ls(a=1 + 2)", "ls(a='x' * 10**9)",
           "x" * 30_000, "[" * 5000 + "]" * 5000, "ls(a=" + "[" * 5000 + "]" * 5000 + ")", "\x00", "ls(a='\\x00')x"]

@pytest.mark.parametrize('action', HOSTILE)
def test_hostile_actions_refused_and_run_nothing(env, action):
    "Nothing reaches eval, exec, open, os.system or subprocess; the backends and the call record are unchanged."
    env.reset('multi_turn_base_31')          # GorillaFileSystem + MathAPI, `cp` excluded
    before, decoded = copy.deepcopy(env.instances), copy.deepcopy(env.decoded)
    hits = []
    mp = pytest.MonkeyPatch()
    try:
        for mod, name in [(builtins, 'eval'), (builtins, 'exec'), (builtins, 'open'), (os, 'system'), (os, 'popen'),
                          (subprocess, 'Popen'), (subprocess, 'run')]:
            mp.setattr(mod, name, lambda *a, _n=name, **k: hits.append(_n))
        st = env.step(action)
        valid = env.is_valid(action)
    finally: mp.undo()
    assert not hits, hits
    assert st.observation.startswith('Error:') and len(st.observation.splitlines()) == 1, st.observation
    assert (st.info['valid'], st.done, st.reward, valid) == (False, False, 0., False)
    assert env.decoded == decoded
    assert all(_compare_instances(env.instances[c], before[c])[0] and vars(env.instances[c]).keys() == vars(before[c]).keys()
               for c in before)

def test_refused_after_done_and_before_reset():
    e = BFCL()
    assert not e.is_valid('pwd()')
    st, _ = play_expert(e, 'multi_turn_base_1')
    assert st.done and st.info['success']
    after = e.step('pwd()')
    assert after.done and not after.info['valid'] and after.observation.startswith('Error:')

STATES = [('multi_turn_base_0', 2), ('multi_turn_base_0', 4), ('multi_turn_base_7', 0), ('multi_turn_base_120', 5),
          ('multi_turn_long_context_3', 3), ('multi_turn_long_context_160', 2), ('multi_turn_miss_func_0', 6),
          ('multi_turn_miss_param_1', 3)]

@pytest.mark.parametrize('task,step', STATES)
def test_branch_equals_fresh_replay(env, task, step):
    expert = env.expert(task)
    env.replay(task, expert[:step])
    alts = env.sample_actions(6, random.Random(f'{task}{step}'), exclude=[expert[step]])
    assert len(alts) == 6 and len({env.canonical(a) for a in alts}) == 6
    assert env.canonical(expert[step]) not in alts and all(env.is_valid(a) for a in alts)
    acts = alts + [expert[step], END_TURN, 'pwd(']
    obs = branch(env, task, step, acts, expert=expert, verify=True)
    assert [o.info['valid'] for o in obs][-1] is False and all(o.info['valid'] for o in obs[:-1])
    # the env is back at s_step: the expert continues to success
    for a in expert[step:]: st = env.step(a)
    assert st.done and st.info['success']

def test_restore_twice_from_one_snapshot(env):
    env.reset('multi_turn_base_0')
    for a in env.expert('multi_turn_base_0')[:3]: env.step(a)
    snap, state = env.snapshot(), env.state()
    outs = []
    for _ in range(2):
        outs.append(env.step("rm(file_name='temp')").observation)
        env.step("mkdir(dir_name='again')")
        env.restore(snap)
        assert env.state() == state
    assert outs[0] == outs[1]

def test_sample_actions_deterministic_and_distinct():
    a, b = BFCL(), BFCL()
    for e in (a, b):
        e.reset('multi_turn_base_100')
        for x in e.expert('multi_turn_base_100')[:3]: e.step(x)
    ra = a.sample_actions(10, random.Random(3))
    assert ra == b.sample_actions(10, random.Random(3)) and len(set(ra)) == 10
    assert a.sample_actions(10, random.Random(3), exclude=ra[:5])[:1] != ra[:1]
    assert not set(a.sample_actions(10, random.Random(4), exclude=ra)) & set(ra)

def test_checker_is_strict_and_leaves_no_globals():
    e = get_entry('multi_turn_base_0')
    gt = [[[canonical_action(c)] for c in turn] for turn in e['ground_truth']]
    assert official_check(e, gt)['valid']
    wrong = copy.deepcopy(gt); wrong[2] = [["sort(file_name='previous_report.pdf')"]]
    assert not official_check(e, wrong)['valid']
    assert not official_check(e, gt[:-1] + [[]])['valid']
    assert [k for k in vars(multi_turn_utils) if k.startswith('early_exp_')] == []

def test_long_context_tables_stay_pristine():
    "Alternatives that spend or change long-context records must not leak into later episodes."
    lc = sys.modules['bfcl_eval.eval_checker.multi_turn_eval.func_source_code.long_context']
    before = copy.deepcopy({k: v for k, v in vars(lc).items() if not k.startswith('_')})
    env = BFCL()
    for task in split_ids('long_context')[::10]:
        expert = env.expert(task)
        env.reset(task)
        for i, a in enumerate(expert):
            for alt in env.sample_actions(3, random.Random(i)):
                snap = env.snapshot(); env.step(alt); env.restore(snap)
            env.step(a)
        env.reset(task)                      # the checker too: the expert with extra calls before the last end_turn()
        for a in expert[:-1]: env.step(a)
        for a in [x for x in env.sample_actions(5, random.Random(1)) if x != END_TURN]: env.step(a)
        assert env.step(END_TURN).done
    assert {k: v for k, v in vars(lc).items() if not k.startswith('_')} == before

def test_canonical_round_trip():
    for c in CATEGORIES:
        for task in split_ids(c)[:50]:
            for turn in get_entry(task)['ground_truth']:
                for call in turn:
                    k = canonical_action(call)
                    assert canonical_action(k) == k and parse_calls(k)[0].source == k
    assert canonical_action("ls( a = True )") == "ls(a=True)"
    assert canonical_action("  not   python ") == "not python"

def test_make_registry():
    with make('bfcl') as e: assert isinstance(e, BFCL) and e.copyable

def test_spending_a_long_context_card_does_not_leak():
    "The official long-context TravelAPI shares its extra credit cards with a module table; spend one, in our env and in the checker."
    lc = sys.modules['bfcl_eval.eval_checker.multi_turn_eval.func_source_code.long_context']
    before = copy.deepcopy(lc.CREDIT_CARD_EXTENSION)
    env, task = BFCL(), 'multi_turn_long_context_151'
    expert = [a.replace("card_id='144756014165'", "card_id='1234567812345678'") for a in env.expert(task)]
    assert expert != env.expert(task)
    env.reset(task)
    for a in expert: st = env.step(a)
    assert st.done and not st.info['success'] and 'booking_id' in ''.join(env.observations)
    assert lc.CREDIT_CARD_EXTENSION == before
    env.reset(task)
    assert env.instances['TravelAPI'].credit_card_list['1234567812345678']['balance'] == 5000.0
