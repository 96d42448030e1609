# Test script: a RESULT of about 7 MB, above Lambda's 6 MB response limit; the handler must fail clearly.
RESULT = {"blob": "x" * (7 * 1024 * 1024)}
