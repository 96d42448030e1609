# Local Spark runtime targets (filled in by the runtime work).
