"""Render farms behind the runner's executor seam: ``FarmExecutor`` over an engine
(``SlurmEngine``, ``FlamencoEngine``), shared-storage staging, and ``check_farm``."""

from .base import FarmEngine, FarmError, FarmInfo, UnknownFarmJob
from .check import FarmCheck, check_farm
from .executor import DEFAULT_CHUNK, FarmExecutor, FarmFate
from .flamenco import FlamencoEngine
from .slurm import SlurmEngine
from .staging import SharedStorage

__all__ = ["DEFAULT_CHUNK", "FarmCheck", "FarmEngine", "FarmError", "FarmExecutor", "FarmFate", "FarmInfo",
           "FlamencoEngine", "SharedStorage", "SlurmEngine", "UnknownFarmJob", "check_farm"]
