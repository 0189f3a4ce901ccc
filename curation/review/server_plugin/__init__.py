"""Code that runs inside the argilla-server virtual environment, not in rbkit's.

argilla-server 2.8 pins libraries that clash with rbkit's, so `rbkit review serve` runs it in a
separate environment and starts it through `launch.py`, which registers `sql_search`'s search
engine first. Nothing in rbkit imports these modules; rbkit only passes their path on.
"""

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
LAUNCHER = PLUGIN_DIR / "launch.py"
