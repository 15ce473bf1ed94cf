import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
BIN = Path(sys.executable).parent

def cli(*args, input=None, env=None, timeout=600):
    "Run the `early-exp` console script; returns the CompletedProcess."
    e = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN/'early-exp'), *map(str, args)], capture_output=True, text=True, input=input,
                          env=e, timeout=timeout)

@pytest.fixture
def run_cli(): return cli
