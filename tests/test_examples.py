"""The examples run, and print the tutorials' numbers digit for digit."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Every value tutorial 4 prints in its worked example, as it prints it.
TUTORIAL = """\
z_l1 = 1.124
a_l1 = 0.7547299213576082
z_l2 = 1.73908830732614
a_l2 = 0.850571226530534
dc_db_l2 = -0.018992369482903983
dc_dw_l2 = -0.014334109526226761
dc_da_l1 = -0.04653130523311476
dc_db_l1 = -0.008613534018377424
dc_dw_l1 = -0.006890827214701939
updated_b_l2 = -0.1081007630517096
updated_w_l2 = 2.451433410952623
updated_b_l1 = -0.13913864659816227
updated_w_l1 = 1.5806890827214704
updated_z_l1 = 1.125412619579014
updated_a_l1 = 0.7549913210309638
updated_z_l2 = 1.7427101863028525
updated_a_l2 = 0.8510309824120517
original_cost = 0.011164479170294499
updated_cost = 0.011095884100559231
"""


def run_example(name):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_worked_example_prints_the_tutorials_numbers():
    assert run_example("worked_example.py") == TUTORIAL


def test_perceptrons_example():
    out = run_example("perceptrons.py")
    assert "NAND(1, 1) = 0" in out and "1 + 1 = sum 0, carry 1" in out
    assert "converged after 1000 epochs: False" in out and "XOR(1, 1) = 0" in out
