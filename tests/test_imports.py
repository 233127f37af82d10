import subprocess
import sys

# The GPU machine has no Ray, and `fgclip --help` must stay fast: neither may pull in the heavy
# frameworks. Checked in a fresh interpreter, since this test process may have imported them.
CHECK = """
import sys
import fgclip.trainer, fgclip.eval, fgclip.pipeline.negatives, fgclip.config, fgclip.cli
try:
    fgclip.cli.main()
except SystemExit:
    pass
heavy = sorted(m for m in ("ray", "torch") if m in sys.modules)
if heavy:
    sys.exit("imported: " + ", ".join(heavy))
"""


def test_light_imports_leave_out_ray_and_torch():
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


TRAINER_CHECK = """
import sys
import fgclip.trainer.launch, fgclip.trainer.loop, fgclip.trainer.stream, fgclip.model
if "ray" in sys.modules:
    sys.exit("the trainer imported ray")
"""


def test_the_trainer_runs_without_ray():
    """The GPU machine has no Ray: training, unless --ray-workers asks for it, must not need it."""
    proc = subprocess.run([sys.executable, "-c", TRAINER_CHECK], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
