"""Running a student's notebook or script inside the sandbox, and reading back plain data."""
