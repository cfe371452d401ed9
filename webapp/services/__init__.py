"""One function per user action; views, the CLI, jobs and tests all call these."""
