"""rbkit: rebuild, verify, review, publish and evaluate RewardBench."""

from rbkit.api import *  # noqa: F403
from rbkit.api import __all__  # noqa: F401
