"""What happens around a batch: the RSS feed, desktop/sound/mail notices and the power action.

Beside the engine core, not inside it: the runner only calls ``BatchWatchers`` at fixed points
and hands it frozen ``BatchView`` objects (``renderplus.batch.view``); nothing here changes a
batch or imports bpy. ``summary`` is the one wording people read (mail, notification, feed).
"""

from .watchers import BatchWatchers

__all__ = ["BatchWatchers"]
