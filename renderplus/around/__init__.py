"""What happens around a batch: the RSS feed, desktop/sound/mail notices and the power action.

Beside the engine core, not inside it: ``BatchWatchers`` is an observer of the engine's port
(``renderplus.batch.observers``), which the CLI and the add-on attach to the batches they
compose (``watchers_factory()``); it is handed frozen ``BatchView`` objects and nothing here
changes a batch or imports bpy. ``summary`` is the one wording people read (mail, notification, feed).
"""

from .watchers import BatchWatchers, watchers_factory

__all__ = ["BatchWatchers", "watchers_factory"]
