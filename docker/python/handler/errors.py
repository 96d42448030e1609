# The errors the Lambda handler raises. awslambdaric reports the class name as the invocation's errorType, so each
# failure cause has its own class and every message names the cause and the fix. Every failure is raised (never
# returned), so Lambda's retries and failure destinations apply.


class HandlerError(Exception):
    """Base of the errors this handler raises."""


class ConfigurationError(HandlerError):
    """A required environment variable is missing or invalid."""


class ScriptNotFoundError(HandlerError):
    """The script object (or its bucket) does not exist."""


class ScriptUnreadableError(HandlerError):
    """The script object exists but cannot be read (access denied, not UTF-8, ...)."""


class ScriptSyntaxError(HandlerError):
    """The script does not compile."""


class ScriptFailedError(HandlerError):
    """The script raised an exception."""


class ScriptExitError(HandlerError):
    """The script called sys.exit() with a non-zero code."""


class SparkStartError(HandlerError):
    """The JVM / SparkContext could not start."""


class SparkDriverDiedError(HandlerError):
    """The Spark driver JVM died while the script ran (heap exhausted, killed at the memory cap, crashed)."""


class CommitConflictError(HandlerError):
    """Concurrent writers kept conflicting on a table commit after every retry the invocation had time for."""


class EventError(HandlerError):
    """The event cannot be passed to the script (not JSON-serializable)."""


class ResponseTooLargeError(HandlerError):
    """The response (the script's RESULT) is larger than Lambda's 6 MB synchronous response limit."""


class HandOffError(HandlerError):
    """An event meant for EMR Serverless could not be handed over (staging it or StartJobRun failed, or the script
    asked for a hand-off while routing is off)."""
