"""The recipe sample (docs/api.md, Recipe) and helpers shared by the recipe tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from renderplus.batch.recipe import RecipeError, parse_recipe

SAMPLE: dict[str, Any] = {
    "name": "/home/user/batch.blend",
    "version": 2.2,
    "settings": {
        "rss": {"enabled": False, "path": "/home/user/feed.rss"},
        "global_percentage": {"enabled": False, "value": 100},
        "global_size": {"enabled": False, "value": [1920, 1080]},
        "write_log": False,
        "ignore_border": False,
    },
    "blender_bin": "/bin/blender",
    "hooks": {"PRE_BATCH": [], "POST_BATCH": []},
    "poweroff": {"enabled": False, "action": "DISABLED"},
    "notifications": {
        "desktop": False,
        "sound": {"enabled": False, "file": "/home/user/notification.ogg", "volume": 10},
        "mail": {"enabled": False, "user": "some@somemail.com", "pass": "password", "ssl": True,
                 "to": "my@real-mail.com", "server": "smtp.mail.com"},
    },
    "jobs": [{
        "enabled": True, "id": 0, "name": "Some job", "output": "/home/user/render_Untitled_Scene",
        "external": False, "layer": "", "blendfile": "blendname.blend",
        "filename": "/home/user/blendname.blend", "animated": False, "engine": "BLENDER_EEVEE",
        "threads": 0,
        "hooks": {"PRE_JOB": [{"enabled": False, "cmd": "echo 'pre_job'"}],
                  "POST_JOB": [{"enabled": False, "cmd": "echo 'post_job'"}]},
        "size": [1920, 1080], "blend_file": "/home/user/batch.blend", "scene": "Scene",
        "camera": "Camera", "world": "World", "frame_still": 1, "frame_start": 1,
        "frame_end": 250, "format": "PNG",
        "section": {"enabled": False, "x": 0, "y": 0, "width": 1, "height": 1},
        "cycles": {"samples": 0, "device": "DEFAULT"}, "custom_overrides": [],
    }],
}


def sample(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data.update(changes)
    return data


def job_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data["jobs"][0].update(changes)
    return data


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(RecipeError) as info:
        parse_recipe(data)
    return {e.path: e.message for e in info.value.errors}
