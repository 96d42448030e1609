# End-to-end targets (filled in by the end-to-end work).
