"""``check_farm``: what ``--check`` and ``/test`` say about the farm before a batch goes to it.

Does the farm answer, what does it offer (Slurm partitions, Flamenco job types), is Render+'s
own Flamenco job type installed, and which files of each .blend a farm node could not see
(the .blend itself, textures, libraries, caches outside shared storage, or missing). A file
outside shared storage is not an error when packing is on: it is named so the user knows the
job will be packed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ...script_paths import FLAMENCO_JOB_TYPE
from .base import FarmEngine, FarmError, FarmInfo
from .staging import SharedStorage, invisible_assets


@dataclass(frozen=True)
class FarmCheck:
    info: FarmInfo
    assets: dict[str, list[str]] = field(default_factory=dict)   # .blend -> problems

    @property
    def ok(self) -> bool:
        return self.info.answers and self.info.renderplus_type is not False

    def lines(self) -> list[str]:
        """What ``--check`` prints, one sentence a line."""
        info = self.info
        if not info.answers:
            return [f"farm ({info.engine}): does not answer: {info.detail}"]
        out = [f"farm ({info.engine}): answers ({info.detail})"]
        label = "partitions" if info.engine == "slurm" else "job types"
        out.append(f"farm {label}: {', '.join(info.queues) or 'none'}")
        if info.renderplus_type is not None:
            out.append("Render+'s Flamenco job type: " + (
                "installed" if info.renderplus_type else
                f"NOT installed (copy {FLAMENCO_JOB_TYPE} into the "
                "scripts/ folder beside the flamenco-manager executable and restart it)"))
        for blend, problems in self.assets.items():
            if not problems:
                out.append(f"{blend}: every file is on shared storage")
            for problem in problems:
                out.append(f"{blend}: farm nodes cannot see {problem}")
        return out

    def to_json(self) -> dict[str, object]:
        info = self.info
        return {"engine": info.engine, "answers": info.answers, "detail": info.detail,
                "queues": list(info.queues), "renderplus_type": info.renderplus_type,
                "assets": self.assets, "ok": self.ok}


def check_farm(engine: FarmEngine, storage: SharedStorage | None = None,
               blendfiles: Iterable[str] = ()) -> FarmCheck:
    """Ask the farm, and read each .blend's dependencies (never raises)."""
    info = engine.describe()
    assets: dict[str, list[str]] = {}
    if storage is not None:
        for blend in blendfiles:
            try:
                assets[blend] = invisible_assets(blend, storage)
            except FarmError as exc:
                assets[blend] = [str(exc)]
    return FarmCheck(info, assets)
