"""Where and how jobs run: the protocol (``base``) and the executors behind it."""

from .base import (
    Accepted,
    ExecEvent,
    Executor,
    ExecutorError,
    Exited,
    FramesWritten,
    JobHandle,
    JobLaunch,
    Output,
    Started,
)
from .local import ProcessExecutor

__all__ = ["Accepted", "ExecEvent", "Executor", "ExecutorError", "Exited", "FramesWritten",
           "JobHandle", "JobLaunch", "Output", "ProcessExecutor", "Started"]
